// Images per second of a full training step (forward, backward, SGD update) at batch 64 for ResNet-8,
// ResNet-20 and plain CNN-4 on CIFAR-shaped random data, paced exactly as the trainer paces itself (one step
// in flight, the previous step's loss read back while the next runs). The step itself lives in train_loop.ts,
// shared with bench/run.ts.
//
//   npx tsx bench/train_step.ts [--json] [--batch N] [--steps N] [--models resnet8,resnet20,plain4] [--profile]

import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { median } from './common.ts';
import { makeTrainStep, timeTrainSteps } from './train_loop.ts';

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
const rt = await initGpu({ ...gpuOptionsFromEnv(), ...(json ? { log: false } : {}) });

for (const arch of models) {
  const trainer = makeTrainStep(arch, batch);
  const times = await timeTrainSteps(trainer, steps);
  const med = median(times);
  const ips = (batch * 1000) / med;
  if (json) console.log(JSON.stringify({ op: 'train_step', model: arch, batch, imagesPerSec: Number(ips.toFixed(2)), stepMs: Number(med.toFixed(1)), adapter: rt.adapterDescription }));
  else console.log(`${arch.padEnd(10)} batch ${batch}: ${ips.toFixed(1).padStart(8)} img/s (median step ${med.toFixed(0)} ms over ${steps})`);
  if (profile) {
    rt.startProfile();
    trainer.step();
    for (const r of await rt.stopProfile()) if (r.share > 0.01) console.log(`   ${r.label.padEnd(26)} ${r.ms.toFixed(1).padStart(8)} ms  ${(r.share * 100).toFixed(1)}%`);
  }
  trainer.dispose();
}
process.exit(0);
