// A round trip into PyTorch: for each architecture, a seeded model with non-trivial batch-norm statistics runs a
// random batch here (eval mode); its model-only export plus that batch (NCHW) and our logits go to a file that
// `python3 dgkd/pytorch/models.py check` loads with strict=True and runs. Needs torch: Debian's python3-torch at
// /usr/bin/python3 (`bash scripts/setup-torch.sh`), or the interpreter in $PYTHON.
//
//   npx tsx scripts/pytorch-roundtrip.ts [ARCH[:CLASSES] ...]     (default: one of each family)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { Rng, Tensor } from '../engine/index.ts';
import { encodeSafetensors } from '../engine/io/safetensors.ts';
import { stateDict } from '../engine/nn/index.ts';
import { createModel } from '../dgkd/models/index.ts';
import { modelStateOf } from '../dgkd/fit/export.ts';

await initGpu(gpuOptionsFromEnv());
const specs = process.argv.slice(2).length
  ? process.argv.slice(2)
  : ['plain2', 'plain8', 'plain5:100', 'resnet8', 'resnet20', 'wrn-16-2', 'vgg8', 'mobilenetv2-0.5:100', 'shufflenetv1:100', 'shufflenetv2:100'];
const python = process.env.PYTHON ?? '/usr/bin/python3';
const dir = mkdtempSync(join(tmpdir(), 'dgkd-torch-'));
let failed = 0;
for (const spec of specs) {
  const [arch, classes] = spec.split(':');
  const model = createModel(arch, { numClasses: Number(classes ?? 10), seed: 7 });
  const rng = new Rng(11);
  // Batch-norm statistics away from 0 and 1, so that a mix-up of mean and variance would show.
  for (const [name, t] of model.namedState()) {
    if (name.endsWith('running_mean')) t.write(Float32Array.from({ length: t.size }, () => rng.normal() * 0.1));
    if (name.endsWith('running_var')) t.write(Float32Array.from({ length: t.size }, () => 0.5 + rng.next()));
  }
  model.eval();
  const [N, H, W, C] = [4, 32, 32, 3];
  const nhwc = Float32Array.from({ length: N * H * W * C }, () => rng.normal());
  const x = new Tensor([N, H, W, C]);
  x.write(nhwc);
  const logits = await model.forward(x).readF32();
  const nchw = new Float32Array(nhwc.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
    nchw[((n * C + c) * H + h) * W + w] = nhwc[((n * H + h) * W + w) * C + c];
  }
  const tensors = Object.fromEntries([...(await stateDict(model))].map(([k, e]) => [k, { dtype: 'F32' as const, shape: e.shape, data: e.data }]));
  const meta = { arch: model.arch, numClasses: String(model.numClasses), epoch: 0 };
  const state = modelStateOf({ meta: meta as never, tensors }, spec);
  state['input.x'] = { dtype: 'F32', shape: [N, C, H, W], data: nchw };
  state['input.logits'] = { dtype: 'F32', shape: [N, model.numClasses], data: logits };
  const file = join(dir, `${spec.replace(':', '-')}.safetensors`);
  writeFileSync(file, encodeSafetensors(state, { format: 'dgkd-model/1', arch: model.arch, numClasses: String(model.numClasses) }));
  const r = spawnSync(python, ['dgkd/pytorch/models.py', 'check', file], { encoding: 'utf8' });
  process.stdout.write(`${spec}: ${r.stdout.trim().split('\n').slice(1).join(' ') || r.stderr.trim().split('\n').slice(-1)[0]}\n`);
  if (r.status !== 0) failed++;
  model.dispose();
}
process.exit(failed ? 1 : 0);
