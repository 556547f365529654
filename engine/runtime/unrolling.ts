// Whether kernels need their loops unrolled in the text on this device (Capabilities.unrollLoops), measured:
// shaders/unroll_probe.wgsl timed as written and with its constant loops spelled out (engine/unroll.ts). On a
// driver whose compiler unrolls such loops itself the two run alike (Mesa's lavapipe: spelled out is even a
// little slower, docs/cpu-drivers.md); on one that does not, the accumulators stay in memory and the spelled-out
// text ran 4–6× faster (SwiftShader). Unrolling is chosen when it is at least UNROLL_GAIN times faster.

import { kernel } from './contract.ts';
import type { Runtime } from './runtime.ts';

const PROBE = kernel({ shader: 'unroll_probe.wgsl', params: { K: 'u32' }, bindings: ['out'] });

/** How much faster the spelled-out probe must run to choose unrolling: far from both drivers' ratios (≈ 1 and 4–6). */
export const UNROLL_GAIN = 2;
const WORKGROUPS = 32;
const K = 128;

export interface UnrollingMeasurement {
  /** Median milliseconds of the probe as written, and with its loops spelled out. */
  rolledMs: number;
  unrolledMs: number;
  unrollLoops: boolean;
}

export async function measureUnrolling(rt: Runtime): Promise<UnrollingMeasurement> {
  const bytes = WORKGROUPS * 64 * 16;
  const out = rt.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE, label: 'unrolling probe' });
  const time = async (unroll: boolean) => {
    const once = () => rt.launch(PROBE, { params: { K }, buffers: { out }, workgroups: [WORKGROUPS], unroll, label: 'unrolling probe' });
    once(); // compile and warm up
    await rt.sync();
    const samples: number[] = [];
    for (let s = 0; s < 5; s++) {
      const t0 = performance.now();
      for (let r = 0; r < 4; r++) once();
      await rt.sync();
      samples.push(performance.now() - t0);
    }
    return samples.sort((a, b) => a - b)[2];
  };
  const was = rt.caps.unrollLoops;
  rt.caps.unrollLoops = false; // the rolled probe must really be compiled rolled
  try {
    const rolledMs = await time(false);
    const unrolledMs = await time(true);
    // The answer is cached for the adapter, so a gain is confirmed by a second measurement: a busy moment during
    // the first must not switch every kernel to spelled-out loops for good.
    const gains = rolledMs >= UNROLL_GAIN * unrolledMs && (await time(false)) >= UNROLL_GAIN * (await time(true));
    return { rolledMs, unrolledMs, unrollLoops: gains };
  } finally {
    rt.caps.unrollLoops = was;
    out.destroy();
  }
}
