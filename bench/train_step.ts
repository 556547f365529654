// Images per second of a full training step (forward, backward, SGD update) at batch 64 for ResNet-8,
// ResNet-20 and plain CNN-4 on CIFAR-shaped random data, paced exactly as the trainer paces itself (one step
// in flight, the previous step's loss read back while the next runs).
//
//   npx tsx bench/train_step.ts [--json] [--batch N] [--steps N] [--models resnet8,resnet20,plain4] [--profile]

import { initGpu } from '../engine/node/dawn.ts';
import { Rng, backward, runtime, softmaxCrossEntropy, tensor, tidy } from '../engine/index.ts';
import { SGD } from '../engine/nn/index.ts';
import { createModel } from '../dgkd/models/index.ts';

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
}
const json = process.argv.includes('--json');
const profile = process.argv.includes('--profile');
const batch = Number(flag('--batch', '64'));
const steps = Number(flag('--steps', '8'));
const models = flag('--models', 'resnet8,resnet20,plain4').split(',');
if (json) process.env.DGKD_QUIET = '1';
const rt = await initGpu({ log: !json });

for (const arch of models) {
  const rng = new Rng(0);
  const model = createModel(arch, { numClasses: 10 });
  const opt = new SGD(model.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 1e-4 });
  const x = Float32Array.from({ length: batch * 32 * 32 * 3 }, () => rng.normal());
  const y = Int32Array.from({ length: batch }, () => rng.int(10));
  const step = () => {
    const loss = tidy(() => {
      opt.zeroGrad();
      const { loss } = softmaxCrossEntropy(model.forward(tensor(x, [batch, 32, 32, 3])), tensor(y, [batch], 'i32'));
      backward(loss);
      opt.step();
      return loss;
    });
    const r = rt.readLater([{ buffer: loss.buffer, bytes: 4 }]);
    loss.dispose();
    return r;
  };
  // Warm-up: compiles every pipeline and fills the buffer pool.
  for (let i = 0; i < 2; i++) await step().wait();
  rt.resetPacing();
  const times: number[] = [];
  let prev = step();
  let t = performance.now();
  for (let i = 0; i < steps; i++) {
    const next = step();
    await prev.wait();
    const now = performance.now();
    times.push(now - t);
    t = now;
    prev = next;
  }
  await prev.wait();
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const ips = (batch * 1000) / median;
  if (json) console.log(JSON.stringify({ op: 'train_step', model: arch, batch, imagesPerSec: Number(ips.toFixed(2)), stepMs: Number(median.toFixed(1)), adapter: rt.adapterDescription }));
  else console.log(`${arch.padEnd(10)} batch ${batch}: ${ips.toFixed(1).padStart(8)} img/s (median step ${median.toFixed(0)} ms over ${steps})`);
  if (profile) {
    rt.startProfile();
    step();
    for (const r of await rt.stopProfile()) if (r.share > 0.01) console.log(`   ${r.label.padEnd(26)} ${r.ms.toFixed(1).padStart(8)} ms  ${(r.share * 100).toFixed(1)}%`);
  }
  opt.dispose();
  model.dispose();
  rt.trim();
}
process.exit(0);
