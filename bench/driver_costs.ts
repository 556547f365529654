// What one load costs next to one FMA on this adapter: the numbers behind the kernel designs (docs/cpu-drivers.md).
//
//   npx tsx bench/driver_costs.ts            every probe, one table (about a minute on lavapipe)
//
// Each probe is a generated kernel whose invocations run 2048 iterations of R independent FMA chains, fed by
// registers only ('regs'), or by one kind of load per iteration:
//   shared-addr storage  R scalar loads at an address all lanes share (a storage buffer)
//   uniform scalar       R scalar loads from a uniform buffer (all lanes, same address)
//   uniform vec4         one vec4 from a uniform buffer, each component feeding R/4 FMAs
//   lane storage         one scalar load per lane (each lane its own address), feeding R FMAs
//   lane storage vec4    one vec4 per lane, each component feeding R/4 FMAs
//   lane + broadcast     one load per lane, then subgroupBroadcast from each of 8 lanes, each feeding R/8 FMAs
// GFLOP/s counts 2 per FMA; the median of 7 runs. The last column is the time beyond the FMAs per load, in units
// of one FMA of the 'regs' probe. On a GPU every probe should run near the FMA peak; on a CPU driver the gaps
// show what a load costs, which is what the kernels are designed around.

import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';

const rt = await initGpu({ ...gpuOptionsFromEnv(), log: false });
const device = rt.device;
const ITERS = 2048;
const INVOCATIONS = 64 * 1024;
const hasSubgroups = device.features.has('subgroups');

interface Probe {
  name: string;
  R: number;
  /** WGSL statements of one iteration (`it` is the iteration, `lid` the local invocation index). */
  body: (R: number) => string;
  subgroups?: boolean;
}

const fmas = (R: number, operand: (i: number) => string) =>
  Array.from({ length: R }, (_, i) => `a${i} = fma(${operand(i)}, y, a${i});`).join('\n');

const probes: Probe[] = [
  { name: 'regs', R: 16, body: (R) => fmas(R, () => 'x') },
  { name: 'regs', R: 32, body: (R) => fmas(R, () => 'x') },
  { name: 'shared-addr storage', R: 8, body: (R) => fmas(R, (i) => `S[(it * ${R}u + ${i}u) & 65535u]`) },
  { name: 'uniform scalar', R: 8, body: (R) => fmas(R, (i) => `U[(it * ${R}u + ${i}u) & 4095u].x`) },
  { name: 'uniform vec4', R: 32, body: (R) => `let u = U[it & 4095u];\n` + fmas(R, (i) => `u[${i % 4}]`) },
  { name: 'lane storage', R: 16, body: (R) => `let v = S[(it * 8u + lid) & 65535u];\n` + fmas(R, () => 'v') },
  { name: 'lane storage vec4', R: 32, body: (R) => `let v = S4[(it * 8u + lid) & 16383u];\n` + fmas(R, (i) => `v[${i % 4}]`) },
  {
    name: 'lane + broadcast',
    R: 16,
    subgroups: true,
    body: (R) => `let v = S[(it * 8u + lid % 8u) & 65535u];\n` + fmas(R, (i) => `subgroupBroadcast(v, ${i % 8}u)`),
  },
];

function kernel(p: Probe): string {
  const acc = Array.from({ length: p.R }, (_, i) => `var a${i} = f32(lid + ${i}u) * 1e-7;`).join('\n  ');
  const sum = Array.from({ length: p.R }, (_, i) => `a${i}`).join(' + ');
  return `${p.subgroups ? 'enable subgroups;' : ''}
@group(0) @binding(0) var<uniform> U: array<vec4<f32>, 4096>;
@group(0) @binding(1) var<storage, read> S: array<f32>;
@group(0) @binding(2) var<storage, read> S4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> O: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(global_invocation_id) gid: vec3u) {
  let x = f32(gid.x) * 1e-6 + 1.0;
  let y = 1e-3 * f32(lid);
  ${acc}
  for (var it = 0u; it < ${ITERS}u; it++) {
    ${p.body(p.R)}
  }
  O[gid.x] = ${sum} + U[0].x + S[lid] + S4[lid].y;   // every binding used, so the layout has them all
}`;
}

const uniform = device.createBuffer({ size: 65536, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(uniform, 0, new Float32Array(16384).map(() => Math.random()));
const storage = device.createBuffer({ size: 65536 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(storage, 0, new Float32Array(65536).map(() => Math.random()));
const out = device.createBuffer({ size: INVOCATIONS * 4, usage: GPUBufferUsage.STORAGE });

async function time(p: Probe): Promise<number> {
  const module = device.createShaderModule({ code: kernel(p) });
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [uniform, storage, storage, out].map((buffer, binding) => ({ binding, resource: { buffer } })),
  });
  const once = async () => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(INVOCATIONS / 64);
    pass.end();
    const t = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t;
  };
  await once();   // compiles
  const ms: number[] = [];
  for (let r = 0; r < 7; r++) ms.push(await once());
  ms.sort((a, b) => a - b);
  return ms[3];
}

console.log(`adapter: ${rt.adapterDescription}`);
console.log('probe'.padEnd(22) + 'FMAs/iter'.padStart(10) + 'GFLOP/s'.padStart(10) + '  loads/iter' + '  cost per load (in FMAs)');
let fmaMs = 0;
for (const p of probes) {
  if (p.subgroups && !hasSubgroups) continue;
  const ms = await time(p);
  const gflops = (2 * INVOCATIONS * ITERS * p.R) / ms / 1e6;
  if (p.name === 'regs' && p.R === 16) fmaMs = ms / p.R;
  // Time beyond the FMAs themselves, per load (the scalar kinds load R times per iteration, the others once).
  const loads = /^(shared-addr|uniform scalar)/.test(p.name) ? p.R : p.name === 'regs' ? 0 : 1;
  // (for 'lane + broadcast' the cost includes the R broadcasts of that one load)
  const cost = loads && fmaMs ? ((ms - fmaMs * p.R) / loads / fmaMs).toFixed(1) : '';
  console.log(`${p.name.padEnd(22)}${String(p.R).padStart(10)}${gflops.toFixed(1).padStart(10)}${String(loads).padStart(12)}  ${cost}`);
}
process.exit(0);
