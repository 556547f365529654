// The engine's set-up (engine/node/dawn.ts, InitOptions) from this project's environment variables, for the
// trainer, the benchmarks, the scripts and the tests (README, "Benchmarks"):
//   DGKD_QUIET=1          no "[gpu] adapter: …" line
//   DGKD_UNROLL=1|0       loop unrolling in the kernel text forced on or off (default: the runtime's choice)
//   DGKD_SUBGROUPS=0      the kernel variants that need no subgroups, even where the device has them
//   DGKD_SPIN_WAIT=1      Dawn's own busy-wait on a CPU adapter (the engine polls every millisecond otherwise)
//   DGKD_NO_TUNE_CACHE=1  the default tile shapes, whatever `npm run tune` cached
//   DGKD_TUNE_DIR=DIR     where the tuned tile shapes are cached (default .cache/tune/)

import type { InitOptions } from '../engine/node/dawn.ts';

export function gpuOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): InitOptions {
  return {
    log: !env.DGKD_QUIET,
    ...(env.DGKD_UNROLL ? { unrollLoops: env.DGKD_UNROLL === '1' } : {}),
    subgroups: env.DGKD_SUBGROUPS !== '0',
    spinWait: env.DGKD_SPIN_WAIT === '1',
    ...(env.DGKD_NO_TUNE_CACHE ? { tuneCache: false as const } : env.DGKD_TUNE_DIR ? { tuneCache: env.DGKD_TUNE_DIR } : {}),
  };
}
