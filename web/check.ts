// A fixed computation that must give the same numbers on every WebGPU implementation: a seeded plain-2 network's
// forward pass (training mode) on a seeded batch, its cross-entropy loss, and the gradients of three of its
// parameters. The browser test runs it in Chromium's WebGPU and in Node on Dawn, and compares.

import { Rng, backward, softmaxCrossEntropy, tensor, tidy } from '../engine/index.ts';
import { createModel } from '../dgkd/models/index.ts';

export interface CheckResult {
  adapter?: string;
  logits: number[];
  loss: number;
  grads: Record<string, number[]>;
}

export const CHECKED_PARAMS = ['conv1.weight', 'bn2.weight', 'fc1.weight'];

export async function forwardBackwardCheck(): Promise<CheckResult> {
  const [B, S, C] = [4, 16, 3];
  const model = createModel('plain2', { numClasses: 10, inputSize: S, inputChannels: C, seed: 5 });
  const rng = new Rng(7);
  const images = Float32Array.from({ length: B * S * S * C }, () => rng.normal());
  const labels = Int32Array.from({ length: B }, (_, i) => (3 * i + 1) % 10);
  const { logits, loss } = tidy(() => {
    const out = model.forward(tensor(images, [B, S, S, C]));
    const ce = softmaxCrossEntropy(out, tensor(labels, [B], 'i32'));
    backward(ce.loss);
    return { logits: out, loss: ce.loss };
  });
  const named = new Map(model.namedParameters());
  const grads: Record<string, number[]> = {};
  for (const name of CHECKED_PARAMS) grads[name] = Array.from(await named.get(name)!.grad!.readF32());
  const result = { logits: Array.from(await logits.readF32()), loss: (await loss.readF32())[0], grads };
  logits.dispose();
  loss.dispose();
  model.dispose();
  return result;
}

/** The largest difference between two results, relative to the larger of 1 and the reference's largest value. */
export function worstDifference(a: CheckResult, ref: CheckResult): { what: string; diff: number } {
  let worst = { what: 'loss', diff: Math.abs(a.loss - ref.loss) / Math.max(1, Math.abs(ref.loss)) };
  const compare = (what: string, x: number[], y: number[]) => {
    if (x.length !== y.length) throw new Error(`${what}: ${x.length} values against ${y.length}`);
    const scale = Math.max(1, ...y.map(Math.abs));
    for (let i = 0; i < x.length; i++) {
      const d = Math.abs(x[i] - y[i]) / scale;
      if (!(d <= worst.diff)) worst = { what: `${what}[${i}]`, diff: Number.isNaN(d) ? Infinity : d };
    }
  };
  compare('logits', a.logits, ref.logits);
  for (const name of CHECKED_PARAMS) compare(`grad ${name}`, a.grads[name], ref.grads[name]);
  return worst;
}
