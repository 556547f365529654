// Parity with PyTorch, step for step (dgkd/pytorch/parity.py is PyTorch's side). Needs Debian's python3-torch at
// /usr/bin/python3 — `bash scripts/setup-torch.sh` installs it; without it this file FAILS, it never skips.
//
// - losses: KD (batchmean, element-wise mean), DGKD (dense with the paper's and the official CE weight,
//   stochastic with a fixed keep-mask, normalised) and CTKD (logit term and attention term, either target), ours
//   against PyTorch's autograd in float64: the loss and its gradient w.r.t. the student's logits (and the scratch
//   teacher's logits and the taught model's feature maps).
// - training: one model of each family takes 20 SGD steps here (trainStep: mean CE, momentum 0.9, weight decay
//   5e-4, Nesterov off and on, batch norm in training mode), and PyTorch (torch.optim.SGD) takes each of those
//   steps from exactly our state before it: the loss, the parameters, the running statistics and the momentum
//   buffers after each step must agree.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Rng, Tensor, backward, tensor, tidy } from '../engine/index.ts';
import { SGD, stateDict } from '../engine/nn/index.ts';
import { decodeSafetensors, encodeSafetensors, type SafetensorsTensor } from '../engine/io/safetensors.ts';
import { createModel, type Classifier, type ModelOutput } from '../dgkd/models/index.ts';
import { modelStateOf } from '../dgkd/fit/export.ts';
import { trainStep, type StepBatch } from '../dgkd/fit/step.ts';
import { CrossEntropy, Distillation, drawTeachers, type KdOptions } from '../dgkd/methods/kd.ts';
import { CollaborativeTeaching } from '../dgkd/methods/ctkd.ts';
import { matchAttentionGroups } from '../dgkd/methods/attention_pairs.ts';
import type { Objective, StepInputs } from '../dgkd/methods/objective.ts';
import { gpuReady } from './gpu.ts';

const PYTHON = '/usr/bin/python3';
const SCRIPT = resolve(import.meta.dirname, '..', 'dgkd', 'pytorch', 'parity.py');
const dir = mkdtempSync(join(tmpdir(), 'dgkd-parity-'));

/** `parity.py serve`: one PyTorch process for the whole file (torch imports once), answering requests in order. */
class TorchServer {
  readonly ready: Promise<void>;
  private p = spawn(PYTHON, [SCRIPT, 'serve'], { stdio: ['pipe', 'pipe', 'pipe'] });
  private waiting = new Map<string, { done: () => void; fail: (e: Error) => void }>();
  private stderr = '';

  constructor() {
    let isReady: () => void = () => {};
    let notReady: (e: Error) => void = () => {};
    this.ready = new Promise((done, fail) => ([isReady, notReady] = [done, fail]));
    this.ready.catch(() => {}); // reported by whoever awaits it
    let partial = '';
    this.p.stdout.on('data', (d) => {
      const lines = (partial + d).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready') isReady();
        const [first, out, message] = line.split('\t');
        if (first === 'error') this.waiting.get(out)?.fail(new Error(`parity.py: ${message}`));
        else this.waiting.get(first)?.done();
      }
    });
    this.p.stderr.on('data', (d) => (this.stderr += d));
    this.p.stdin.on('error', () => {}); // a process that ended is reported by 'close'
    const failAll = (why: string) => {
      const e = new Error(
        `${PYTHON} ${SCRIPT} serve ended (${why}): ${this.stderr.trim().split('\n').slice(-1)[0] ?? ''}\n` +
          `The PyTorch parity test needs ${PYTHON} with torch and numpy: install Debian's python3-torch and ` +
          'python3-numpy with `bash scripts/setup-torch.sh`.',
      );
      notReady(e);
      this.waiting.forEach((w) => w.fail(e));
    };
    this.p.on('error', (e) => failAll(e.message));
    this.p.on('close', (code) => failAll(`exit status ${code}`));
  }

  /** Runs `parity.py COMMAND IN OUT` and decodes OUT. */
  async request(command: 'follow' | 'losses', inFile: string, outFile: string) {
    await this.ready;
    const answered = new Promise<void>((done, fail) => this.waiting.set(outFile, { done, fail }));
    this.p.stdin.write(`${command}\t${inFile}\t${outFile}\n`);
    await answered;
    return decodeSafetensors(new Uint8Array(readFileSync(outFile)), outFile);
  }

  end(): void {
    this.p.stdin.end();
  }
}

// No hook fails for a missing torch (vitest would then report the tests as skipped): the hooks start the work,
// and every test awaits it, so that each one fails with the message.
let torch: TorchServer;

beforeAll(async () => {
  await gpuReady;
  torch = new TorchServer();
});

afterAll(() => {
  torch?.end();
  rmSync(dir, { recursive: true, force: true });
});

it(`${PYTHON} can import torch and numpy (else: bash scripts/setup-torch.sh)`, async () => {
  await torch.ready;
});

const f32 = (shape: number[], data: Float32Array): SafetensorsTensor => ({ dtype: 'F32', shape, data });
const maxAbs = (a: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};
/** max |ours − theirs| relative to the largest |theirs| of the tensor. */
function relDiff(ours: ArrayLike<number>, theirs: ArrayLike<number>): number {
  expect(ours.length).toBe(theirs.length);
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - theirs[i]));
  return m / Math.max(maxAbs(theirs), 1e-30);
}

/** NHWC → NCHW, and back. */
function toNchw(x: Float32Array, [N, H, W, C]: number[]): Float32Array {
  const out = new Float32Array(x.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) {
    out[((n * C + c) * H + h) * W + w] = x[((n * H + h) * W + w) * C + c];
  }
  return out;
}
function toNhwc(x: ArrayLike<number>, [N, C, H, W]: number[]): Float64Array {
  const out = new Float64Array(x.length);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) {
    out[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Losses

// float32 here against float64 in PyTorch. Measured: losses within 2e-7 relative, gradients within 7e-7 of
// their largest element (the attention term's feature-map gradients; the logits' within 3e-7).
const VALUE_TOL = 1e-5;
const GRAD_TOL = 1e-5;

describe('losses and their gradients agree with PyTorch autograd', () => {
  const N = 16;
  const K = 10;
  const rng = new Rng(99);
  const randn = (n: number, s = 1) => Float32Array.from({ length: n }, () => s * rng.normal());
  const labels = Int32Array.from({ length: N }, () => rng.int(K));
  const student = randn(N * K, 2);
  // Three teachers, largest first, each leaning towards the labels by a different amount.
  const teachers = [4, 2.5, 1.5].map((lean) => {
    const z = randn(N * K, 1.5);
    for (let b = 0; b < N; b++) z[b * K + labels[b]] += lean;
    return z;
  });
  const scratch = randn(N * K, 2);
  // CTKD's feature maps, NHWC: the student's three stages against an expert's one stage coarser (the student's
  // maps are pooled), and a scratch teacher's coarser than the expert's (the expert's maps are pooled).
  const studentShapes = [[N, 16, 16, 8], [N, 8, 8, 16], [N, 4, 4, 32]];
  const scratchShapes = [[N, 4, 4, 16], [N, 2, 2, 32]];
  const expertShapes = [[N, 8, 8, 12], [N, 4, 4, 24], [N, 2, 2, 48]];
  const mapsOf = (shapes: number[][]) => shapes.map((s) => randn(s.reduce((a, b) => a * b, 1)));
  const studentMaps = mapsOf(studentShapes);
  const scratchMaps = mapsOf(scratchShapes);
  const expertMaps = mapsOf(expertShapes);

  const T = 4;
  const lambda = 0.7;
  // Stochastic teaching's keep-mask: drawn here from a fresh Rng with the first seed whose draw drops a teacher;
  // the objective, given an Rng in the same state, draws the same mask (checked through its keep statistics).
  const seedFor = (mode: 'bernoulli' | 'exact-k') => {
    for (let s = 1; ; s++) if (drawTeachers(3, mode, new Rng(s), 0.75, 1).includes(false)) return s;
  };

  interface KdCase {
    name: string;
    teachers: number;
    opts: KdOptions;
    seed?: number;
  }
  const kd = (klReduction: KdOptions['klReduction'], more: Partial<KdOptions> = {}): KdOptions => ({ temperature: T, lambda, klReduction, ...more });
  const kdCases: KdCase[] = [
    { name: 'kd-batchmean', teachers: 1, opts: kd('batchmean') },
    { name: 'kd-elementwise-mean', teachers: 1, opts: kd('elementwise-mean') },
    { name: 'dgkd-dense-paper-ce', teachers: 3, opts: kd('batchmean') },
    { name: 'dgkd-dense-official-ce', teachers: 3, opts: kd('elementwise-mean', { ceWeight: 1 - lambda }) },
    { name: 'dgkd-stochastic-bernoulli', teachers: 3, opts: kd('batchmean', { drop: 'bernoulli', keepProb: 0.75 }), seed: seedFor('bernoulli') },
    { name: 'dgkd-stochastic-exact-k', teachers: 3, opts: kd('batchmean', { drop: 'exact-k', dropK: 1 }), seed: seedFor('exact-k') },
    { name: 'dgkd-normalised', teachers: 3, opts: kd('batchmean', { normalise: true }) },
  ];
  const ctkdCases = [
    { name: 'ctkd-target-student', target: 'student' as const, gamma: 0.5, beta: 1000 },
    { name: 'ctkd-target-scratch', target: 'scratch' as const, gamma: 2, beta: 1000 },
  ];
  const maskOf = (c: KdCase) =>
    c.seed === undefined ? new Array(c.teachers).fill(true) : drawTeachers(c.teachers, c.opts.drop!, new Rng(c.seed), c.opts.keepProb, c.opts.dropK);

  let torchSide: Promise<Record<string, SafetensorsTensor>>;
  let theirs: Record<string, SafetensorsTensor>;
  const theirs64 = (name: string) => theirs[name].data as Float64Array;

  const askTorch = async () => {
    const tensors: Record<string, SafetensorsTensor> = {
      student: f32([N, K], student),
      scratch: f32([N, K], scratch),
      labels: { dtype: 'I32', shape: [N], data: labels },
    };
    teachers.forEach((z, i) => (tensors[`teacher.${i}`] = f32([N, K], z)));
    const nchw = (prefix: string, maps: Float32Array[], shapes: number[][]) =>
      maps.map((m, i) => {
        const [n, h, w, c] = shapes[i];
        tensors[`${prefix}.${i}`] = f32([n, c, h, w], toNchw(m, shapes[i]));
        return `${prefix}.${i}`;
      });
    const features = {
      student: nchw('feature.student', studentMaps, studentShapes),
      scratch: nchw('feature.scratch', scratchMaps, scratchShapes),
      expert: nchw('feature.expert', expertMaps, expertShapes),
    };
    const sizes = (shapes: number[][]) => shapes.map(([, h, w]) => ({ height: h, width: w }));
    const cases = [
      ...kdCases.map((c) => ({
        name: c.name,
        kind: 'kd',
        student: 'student',
        teachers: teachers.slice(0, c.teachers).map((_, i) => `teacher.${i}`),
        labels: 'labels',
        T: c.opts.temperature,
        lambda: c.opts.lambda,
        reduction: c.opts.klReduction,
        ce_weight: c.opts.ceWeight ?? c.teachers * (1 - c.opts.lambda),
        keep: maskOf(c),
        normalise: !!c.opts.normalise,
      })),
      ...ctkdCases.map((c) => ({
        name: c.name,
        kind: 'ctkd',
        student: 'student',
        scratch: 'scratch',
        labels: 'labels',
        gamma: c.gamma,
        beta: c.beta,
        target_features: features[c.target],
        expert_features: features.expert,
        pairs: matchAttentionGroups(sizes(c.target === 'student' ? studentShapes : scratchShapes), sizes(expertShapes)),
      })),
    ];
    const inFile = join(dir, 'losses.in.safetensors');
    writeFileSync(inFile, encodeSafetensors(tensors, { cases: JSON.stringify(cases) }));
    return (await torch.request('losses', inFile, join(dir, 'losses.out.safetensors'))).tensors;
  };

  beforeAll(() => {
    torchSide = askTorch();
    torchSide.catch(() => {}); // reported by every test
  });

  /** Our objective on leaf tensors: the loss, and the gradient of each leaf. */
  async function ours(objective: Objective, leaves: Record<string, Tensor>, inputs: (l: Record<string, Tensor>) => StepInputs) {
    for (const t of Object.values(leaves)) t.requiresGrad = true;
    const loss = tidy(() => {
      const l = objective.loss(inputs(leaves)).loss;
      backward(l);
      return l;
    });
    const value = await loss.item();
    loss.dispose();
    const grads: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(leaves)) {
      grads[name] = t.grad ? await t.grad.readF32() : new Float32Array(t.size);
      t.grad?.dispose();
      t.dispose();
    }
    return { loss: value, grads };
  }

  function compare(name: string, mine: { loss: number; grads: Record<string, Float32Array> }, expected: Record<string, ArrayLike<number>>): void {
    const reference = theirs64(`${name}.loss`)[0];
    const lossDiff = Math.abs(mine.loss - reference) / Math.abs(reference);
    const gradDiffs = Object.entries(expected).map(([k, g]) => [k, relDiff(mine.grads[k], g)] as const);
    console.log(`${name}: loss ${reference.toFixed(5)} (rel. diff ${lossDiff.toExponential(1)}); gradients ${gradDiffs.map(([k, d]) => `${k} ${d.toExponential(1)}`).join(', ')}`);
    expect(lossDiff, 'loss').toBeLessThan(VALUE_TOL);
    for (const [k, d] of gradDiffs) expect(d, `gradient w.r.t. ${k}`).toBeLessThan(GRAD_TOL);
  }

  const out = (logits: Tensor, features: Tensor[] = []): ModelOutput => ({ logits, features });

  it.each(kdCases)('$name', async (c) => {
    theirs = await torchSide;
    const objective = new Distillation(c.teachers, c.opts);
    const y = tensor(labels, [N], 'i32');
    const zt = teachers.slice(0, c.teachers).map((z) => tensor(z, [N, K]));
    const mine = await ours(objective, { student: tensor(student, [N, K]) }, (l) => ({
      x: l.student,
      labels: y,
      student: out(l.student),
      companions: [],
      teachers: zt.map((z) => out(z)),
      rng: new Rng(c.seed ?? 0),
    }));
    y.dispose();
    zt.forEach((z) => z.dispose());
    // The objective drew the mask PyTorch was given.
    expect((objective.stats().keepRate as number[]).map(Boolean)).toEqual(maskOf(c));
    compare(c.name, mine, { student: theirs64(`${c.name}.grad.student`) });
  });

  it.each(ctkdCases)('$name', async (c) => {
    theirs = await torchSide;
    const scratchModel = createModel('plain2', { numClasses: K, seed: 0 }); // only held by the objective
    const objective = new CollaborativeTeaching(scratchModel, { gamma: c.gamma, beta: c.beta, target: c.target });
    const y = tensor(labels, [N], 'i32');
    const expert = expertMaps.map((m, i) => tensor(m, expertShapes[i]));
    const leaves: Record<string, Tensor> = { student: tensor(student, [N, K]), scratch: tensor(scratch, [N, K]) };
    const [maps, shapes] = c.target === 'student' ? [studentMaps, studentShapes] : [scratchMaps, scratchShapes];
    maps.forEach((m, i) => (leaves[`feature.${i}`] = tensor(m, shapes[i])));
    const taught = (l: Record<string, Tensor>) => maps.map((_, i) => l[`feature.${i}`]);
    const mine = await ours(objective, leaves, (l) => ({
      x: l.student,
      labels: y,
      student: out(l.student, c.target === 'student' ? taught(l) : []),
      companions: [out(l.scratch, c.target === 'scratch' ? taught(l) : [])],
      teachers: [out(tensor(new Float32Array(N * K), [N, K]), expert)],
      rng: new Rng(0),
    }));
    y.dispose();
    expert.forEach((e) => e.dispose());
    scratchModel.dispose();
    const expected: Record<string, ArrayLike<number>> = {
      student: theirs64(`${c.name}.grad.student`),
      scratch: theirs64(`${c.name}.grad.scratch`),
    };
    shapes.forEach(([n, h, w, ch], i) => (expected[`feature.${i}`] = toNhwc(theirs64(`${c.name}.grad.feature.${i}`), [n, ch, h, w])));
    compare(c.name, mine, expected);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Training

const STEPS = 20;
const [B, H, W, C] = [8, 32, 32, 3];
const HYPER = { lr: 0.003, momentum: 0.9, weightDecay: 5e-4 };
// Nesterov off and on for three families; vgg8 (3.9M parameters, half of this file's time) once.
const CONFIGS = [
  ...['plain4', 'resnet8', 'wrn-16-1'].flatMap((arch) => [false, true].map((nesterov) => ({ arch, nesterov }))),
  { arch: 'vgg8', nesterov: false },
];
const tag = (c: { arch: string; nesterov: boolean }) => `${c.arch}-${c.nesterov ? 'nesterov' : 'momentum'}`;

// Why PyTorch takes each step from our state instead of running beside us: ReLU and max-pool have kinks, and an
// activation within float32 rounding of one (a pre-activation ≈ 0, two pooled values an ulp apart) sends a
// gradient term a different way in two implementations that round differently. Such a "kink event" changes a
// step's gradient by up to ~1% (most of all a batch-norm bias's, a sum that nearly cancels on random labels),
// and two free runs then drift apart, each difference making the next event likelier. PyTorch's own float32
// run drifts from its float64 run just as far as ours drifts from PyTorch's: over 20 free steps (batch 8,
// lr 0.003) wrn-16-1's loss by 3e-5 and a batch-norm bias by 5e-2 of its size (ours from PyTorch's float32 run:
// 3.6e-5 and 8e-2), vgg8's loss by up to 2e-2 (ours 2.6e-2), while a smooth 1e-10 perturbation of the weights
// stays ~5e-10 over the 20 steps (the kinks, not chaos). Free runs agree to 1e-6 or not at all by luck, and a
// tolerance loose enough for them would hide a real error (a missing weight decay moves the parameters by ~1e-5
// of their size in 20 steps). From the same state, an error in the loss, the gradients, the batch-norm
// statistics or the SGD update shows in every step, while a kink event touches one step: PyTorch float32
// against float64 from the same states, 100 steps each (lr 0.005), had one in 1–2% of the steps for plain4, 5%
// for vgg8, 6–13% for resnet8 and wrn-16-1, none larger than 2.5e-2 (parameters: a vgg8 batch-norm bias) and
// 5e-3 (momentum buffers).
//
// So the loss and the running statistics (forward only, no kink events) agree at every step; the parameters and
// the momentum buffers agree tightly at the median step, and at every step within what a kink event does.
// Measured (lavapipe, Mesa 24; PyTorch 1.13 CPU float32, one thread; 20 steps, lr 0.003, batch 8), worst config:
//   loss, |ours − PyTorch| / |PyTorch|:                                    max 6.5e-7 (vgg8)
//   running statistics, max |Δ| / max |tensor|:                            max 6.0e-7 (wrn-16-1)
//   parameters after the step, max |Δ| / max |tensor|:   median 3.0e-7 (vgg8), max 2.1e-2 (wrn-16-1, a BN bias)
//   momentum buffers, ‖Δ‖₂ / ‖buffers‖₂ over the model (the gradients):  median 1.4e-6 (vgg8), max 7.6e-3 (vgg8)
// Against PyTorch in float64 (parity.py's `dtype`) the medians are the same (plain4: 1.4e-7 and 4.7e-7).
const TOL = {
  loss: { every: 5e-6 },
  stats: { every: 5e-6 },
  param: { median: 1e-5, max: 0.25 },
  momentum: { median: 1e-5, max: 0.05 },
};

/**
 * The model's parameters and running statistics by state-dict name, and its SGD momentum buffers as
 * `momentum.<name>`, in the engine's layouts (parity.py transposes the 4-D ones, conv weights: permuting vgg8's
 * 7.8M floats here took 0.3 s a step).
 */
async function snapshot(model: Classifier, opt: SGD): Promise<Record<string, SafetensorsTensor>> {
  const names = model.namedParameters().map(([name]) => name);
  const tensors: [string, Tensor][] = [
    ...model.namedState().map(([name, t]) => [name, t] as [string, Tensor]),
    ...opt.velocity.map((v, j) => [`momentum.${names[j]}`, v] as [string, Tensor]),
  ];
  // Every copy is queued before the first wait: one round trip to the GPU, not one per tensor.
  const data = await Promise.all(tensors.map(([, t]) => t.readF32()));
  return Object.fromEntries(tensors.map(([name, t], i) => [name, f32([...t.shape], data[i])]));
}

interface Checked {
  losses: number[];
  /** PyTorch's step from our state: its loss, and how far our result is from its (parity.py follow). */
  reference: Float64Array;
  stats: Float64Array;
  param: Float64Array;
  momentum: Float64Array;
  worst: { stats: string; param: string; momentum: string }[];
}

describe('every training step agrees with torch.optim.SGD from the same state', () => {
  const results = new Map<string, Promise<Checked>>();
  let ourRuns: Promise<void>;

  // Our runs, one after the other, each handed to PyTorch when done: PyTorch checks one while we run the next.
  const runAll = async () => {
    await torch.ready;
    const rng = new Rng(2024);
    const batches: StepBatch[] = [];
    const batchTensors: Record<string, SafetensorsTensor> = {};
    for (let i = 0; i < STEPS; i++) {
      const images = Float32Array.from({ length: B * H * W * C }, () => rng.normal());
      const labels = Int32Array.from({ length: B }, () => rng.int(10));
      batches.push({ images, labels, shape: [B, H, W, C] });
      batchTensors[`input.batch.${i}.x`] = f32([B, C, H, W], toNchw(images, [B, H, W, C]));
      batchTensors[`input.batch.${i}.y`] = { dtype: 'I32', shape: [B], data: labels };
    }
    // vgg8 first: the slowest for PyTorch to check.
    for (const cfg of [...CONFIGS].reverse()) {
      const model = createModel(cfg.arch, { numClasses: 10, seed: 7 }).train();
      const opt = new SGD(model.parameters(), { ...HYPER, nesterov: cfg.nesterov });
      const meta = { format: 'dgkd-model/1', arch: model.arch, numClasses: String(model.numClasses) };
      const states = Array.from({ length: STEPS + 1 }, (_, i) => join(dir, `${tag(cfg)}.state${i}.safetensors`));
      const inFile = join(dir, `${tag(cfg)}.in.safetensors`);
      const tensors = Object.fromEntries([...(await stateDict(model))].map(([k, e]) => [k, f32(e.shape, e.data)]));
      const run = {
        ...meta,
        lr: String(HYPER.lr),
        momentum: String(HYPER.momentum),
        weight_decay: String(HYPER.weightDecay),
        nesterov: String(cfg.nesterov),
        steps: String(STEPS),
        states: JSON.stringify(states),
      };
      writeFileSync(inFile, encodeSafetensors({ ...modelStateOf({ meta: meta as never, tensors }, model.arch), ...batchTensors }, run));
      writeFileSync(states[0], encodeSafetensors(await snapshot(model, opt), meta));

      const objective: Objective = new CrossEntropy();
      const stepRng = new Rng(0);
      const losses: number[] = [];
      for (const [i, batch] of batches.entries()) {
        const [loss, correct] = trainStep(model, [], objective, opt, batch, stepRng);
        losses.push(await loss.item());
        loss.dispose();
        correct.dispose();
        writeFileSync(states[i + 1], encodeSafetensors(await snapshot(model, opt), meta));
      }
      opt.dispose();
      model.dispose();

      const checked = torch.request('follow', inFile, join(dir, `${tag(cfg)}.out.safetensors`)).then(({ tensors: t, metadata }): Checked => {
        states.forEach((f) => rmSync(f));
        const f64 = (k: string) => t[k].data as Float64Array;
        return { losses, reference: f64('loss'), stats: f64('diff.stats'), param: f64('diff.param'), momentum: f64('diff.momentum'), worst: JSON.parse(metadata.worst) };
      });
      checked.catch(() => {}); // reported by the test that awaits it
      results.set(tag(cfg), checked);
    }
  };

  beforeAll(() => {
    ourRuns = runAll();
    ourRuns.catch(() => {}); // reported by every test
  });

  it.each(CONFIGS)('$arch, nesterov $nesterov: 20 steps', async (cfg) => {
    await ourRuns;
    const r = await results.get(tag(cfg))!;
    const figures: Record<keyof typeof TOL, number[]> = {
      loss: r.losses.map((l, i) => Math.abs(l - r.reference[i]) / Math.abs(r.reference[i])),
      stats: Array.from(r.stats),
      param: Array.from(r.param),
      momentum: Array.from(r.momentum),
    };
    const median = (d: number[]) => [...d].sort((x, y) => x - y)[d.length >> 1];
    const lines = Object.entries(figures).map(([kind, d]) => {
      const step = d.indexOf(Math.max(...d));
      const where = kind === 'loss' ? '' : `, ${r.worst[step][kind as 'stats']}`;
      return `${kind} median ${median(d).toExponential(1)}, max ${d[step].toExponential(1)} (step ${step}${where})`;
    });
    console.log(`${tag(cfg)} (loss ${r.losses[0].toFixed(3)} → ${r.losses.at(-1)!.toFixed(3)}): ${lines.join('; ')}`);
    for (const [kind, d] of Object.entries(figures) as [keyof typeof TOL, number[]][]) {
      const tol = TOL[kind];
      if ('every' in tol) {
        expect(Math.max(...d), `${kind}, every step`).toBeLessThan(tol.every);
      } else {
        expect(median(d), `${kind}, median step`).toBeLessThan(tol.median);
        expect(Math.max(...d), `${kind}, every step (one kink event at most)`).toBeLessThan(tol.max);
      }
    }
  });
});
