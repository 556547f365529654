// The baselines of issue 27 — DKD, DIST, AT, FitNets, RKD — and DGKD with a DKD or DIST term per teacher: each
// loss on a hand-made case against its paper's formula computed here in float64 (independently of the engine),
// gradients of the newly composed losses against finite differences, FitNets' regressor (trained, not exported),
// and the --compare list's rows and stage keys.
import { beforeAll, describe, expect, it } from 'vitest';
import { Rng, add, backward, noGrad, softmaxCrossEntropy, tensor, tidy, type Tensor } from '../engine/index.ts';
import { dkdTerms, distTerms, logSoftmax, rowMax, teacherLoss, type TeacherLossSettings } from '../dgkd/methods/logit_losses.ts';
import { Distillation } from '../dgkd/methods/kd.ts';
import { attentionTransfer } from '../dgkd/methods/at.ts';
import { FitNets, HintRegressor, HintMatchError, planHint } from '../dgkd/methods/fitnets.ts';
import { RelationalKd, rkdTerms, smoothL1 } from '../dgkd/methods/rkd.ts';
import { matchAttentionGroups } from '../dgkd/methods/attention_pairs.ts';
import { cifar10GapConfig, quickConfig } from '../dgkd/settings/config.ts';
import { settingsDiff } from '../dgkd/experiment/folders.ts';
import { planStages } from '../dgkd/experiment/plan.ts';
import { createModel } from '../dgkd/models/index.ts';
import { gpuReady, labelsUp } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

// ---- float64 references, written from the papers' formulas (and their reference code's reductions) ----------

type M = number[][];
const softmax64 = (row: number[], T: number) => {
  const u = row.map((v) => v / T);
  const m = Math.max(...u);
  const e = u.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};
const kl64 = (p: number[], q: number[]) => p.reduce((a, pi, i) => a + (pi > 0 ? pi * Math.log(pi / q[i]) : 0), 0);

/** DKD (Zhao et al. 2022, eq. 1–4; mdistiller's dkd_loss): T²/B·Σ KL of the binary and of the non-target parts. */
function dkd64(zs: M, zt: M, y: number[], T: number) {
  let tckd = 0;
  let nckd = 0;
  zs.forEach((row, b) => {
    const ps = softmax64(row, T);
    const pt = softmax64(zt[b], T);
    tckd += kl64([pt[y[b]], 1 - pt[y[b]]], [ps[y[b]], 1 - ps[y[b]]]);
    const rest = (p: number[]) => {
      const others = p.filter((_, c) => c !== y[b]);
      const s = others.reduce((a, v) => a + v, 0);
      return others.map((v) => v / s);
    };
    nckd += kl64(rest(pt), rest(ps));
  });
  const B = zs.length;
  return { tckd: (T * T * tckd) / B, nckd: (T * T * nckd) / B };
}

/** DIST (Huang et al. 2022, eq. 4–7): 1 − mean Pearson correlation over rows (inter) and over columns (intra), × τ². */
function dist64(zs: M, zt: M, tau: number) {
  const ys = zs.map((r) => softmax64(r, tau));
  const yt = zt.map((r) => softmax64(r, tau));
  const pearson = (a: number[], b: number[]) => {
    const ma = a.reduce((s, v) => s + v, 0) / a.length;
    const mb = b.reduce((s, v) => s + v, 0) / b.length;
    const ac = a.map((v) => v - ma);
    const bc = b.map((v) => v - mb);
    const dot = ac.reduce((s, v, i) => s + v * bc[i], 0);
    const na = Math.sqrt(ac.reduce((s, v) => s + v * v, 0));
    const nb = Math.sqrt(bc.reduce((s, v) => s + v * v, 0));
    return dot / (na * nb + 1e-8);
  };
  const col = (m: M, c: number) => m.map((r) => r[c]);
  const inter = 1 - ys.reduce((s, r, b) => s + pearson(r, yt[b]), 0) / ys.length;
  const C = zs[0].length;
  let intra = 0;
  for (let c = 0; c < C; c++) intra += pearson(col(ys, c), col(yt, c));
  intra = 1 - intra / C;
  return { inter: tau * tau * inter, intra: tau * tau * intra };
}

/** RKD (Park et al. 2019, eq. 3–7; mdistiller's rkd_loss): distance and angle potentials, smooth-L1, means. */
function rkd64(es: M, et: M) {
  const B = es.length;
  const diff = (e: M, i: number, j: number) => e[i].map((v, d) => v - e[j][d]);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const distances = (e: M) => {
    const d = e.map((_, i) => e.map((__, j) => (i === j ? 0 : Math.sqrt(Math.max(norm(diff(e, i, j)) ** 2, 1e-12)))));
    let sum = 0;
    let n = 0;
    d.forEach((r) => r.forEach((v) => v > 0 && ((sum += v), n++)));
    return d.map((r) => r.map((v) => v / (sum / n)));
  };
  const angles = (e: M) => {
    const out: number[] = [];
    for (let j = 0; j < B; j++) {
      const n = e.map((_, i) => {
        const v = diff(e, i, j);
        const l = Math.max(norm(v), 1e-12);
        return v.map((x) => x / l);
      });
      for (let i = 0; i < B; i++) for (let k = 0; k < B; k++) out.push(n[i].reduce((s, x, d) => s + x * n[k][d], 0));
    }
    return out;
  };
  const sl1 = (x: number) => (Math.abs(x) < 1 ? 0.5 * x * x : Math.abs(x) - 0.5);
  const ds = distances(es).flat();
  const dt = distances(et).flat();
  const as = angles(es);
  const at = angles(et);
  return {
    distance: ds.reduce((s, v, i) => s + sl1(v - dt[i]), 0) / ds.length,
    angle: as.reduce((s, v, i) => s + sl1(v - at[i]), 0) / as.length,
  };
}

/** Attention transfer (Zagoruyko & Komodakis 2017, eq. 2 with p = 2; mdistiller's at_loss): NHWC maps. */
function at64(fs: number[], ft: number[], N: number, HW: number, Cs: number, Ct: number) {
  const att = (f: number[], C: number) =>
    Array.from({ length: N }, (_, n) => {
      const a = Array.from({ length: HW }, (__, p) => {
        let s = 0;
        for (let c = 0; c < C; c++) s += f[(n * HW + p) * C + c] ** 2;
        return s / C;
      });
      const l = Math.max(Math.sqrt(a.reduce((s, v) => s + v * v, 0)), 1e-12);
      return a.map((v) => v / l);
    });
  const as = att(fs, Cs);
  const at = att(ft, Ct);
  let s = 0;
  as.forEach((r, n) => r.forEach((v, p) => (s += (v - at[n][p]) ** 2)));
  return s / (N * HW);
}

// ---- helpers ------------------------------------------------------------------------------------------------

const rows = (m: M) => tensor(m.flat(), [m.length, m[0].length]);
const randM = (rng: Rng, B: number, C: number, s = 1) => Array.from({ length: B }, () => Array.from({ length: C }, () => s * rng.normal()));
const close = (got: number, want: number, rel = 2e-5, abs = 1e-6) => expect(Math.abs(got - want), `${got} vs ${want}`).toBeLessThan(abs + rel * Math.abs(want));

/** Central finite differences of f (float32 on the GPU) against the autograd gradient, at every coordinate. */
async function checkGradient(f: (x: Tensor) => Tensor, x0: number[], shape: number[], eps = 1e-2) {
  const x = tensor(x0, shape);
  x.requiresGrad = true;
  backward(f(x));
  const grad = await x.grad!.readF32();
  const at = async (v: number[]) => {
    const out = noGrad(() => tidy(() => f(tensor(v, shape))));
    const r = await out.item();
    out.dispose();
    return r;
  };
  let worst = 0;
  for (let i = 0; i < x0.length; i++) {
    const up = [...x0];
    const dn = [...x0];
    up[i] += eps;
    dn[i] -= eps;
    const fd = ((await at(up)) - (await at(dn))) / (2 * eps);
    worst = Math.max(worst, Math.abs(grad[i] - fd) / (2e-3 + 1e-2 * Math.abs(fd)));
  }
  expect(worst, 'largest |autograd − finite difference| / (2e-3 + 1% of it)').toBeLessThan(1);
}

// ---- the losses by hand -------------------------------------------------------------------------------------

describe('composed softmax', () => {
  it('rowMax and logSoftmax, also with logits far beyond exp’s float32 range', async () => {
    const m = [[1, 5, -2], [300, 250, -400], [-1e3, -1e3 + 1, -1e3 - 2]];
    expect(Array.from(await rowMax(rows(m)).read())).toEqual([5, 300, -999]);
    const got = await logSoftmax(rows(m)).read();
    m.flat().forEach((v, i) => {
      const r = m[Math.floor(i / 3)];
      const mx = Math.max(...r);
      const want = v - mx - Math.log(r.reduce((s, x) => s + Math.exp(x - mx), 0));
      close(got[i], want, 1e-6, 1e-5);
    });
  });
});

describe('DKD (Zhao et al., CVPR 2022)', () => {
  const rng = new Rng(27);
  const zs = randM(rng, 4, 6, 2);
  const zt = randM(rng, 4, 6, 3);
  const y = [0, 3, 5, 3];
  for (const T of [1, 4]) {
    it(`TCKD and NCKD at T = ${T} equal the formula`, async () => {
      const want = dkd64(zs, zt, y, T);
      const { tckd, nckd } = dkdTerms(rows(zs), rows(zt), Int32Array.from(y), T);
      close(await tckd.item(), want.tckd);
      close(await nckd.item(), want.nckd);
    });
  }
  it('α, β and the warm-up: w·(α·TCKD + β·NCKD), w = min(epochs done / warm-up, 1)', async () => {
    const want = dkd64(zs, zt, y, 4);
    const s: TeacherLossSettings = { kind: 'dkd', alpha: 1.5, beta: 8, warmup: 2 };
    for (const [progress, w] of [[0.5, 0.25], [1, 0.5], [2, 1], [7, 1]]) {
      const got = teacherLoss(s, rows(zs), rows(zt), { temperature: 4, klReduction: 'batchmean', labels: Int32Array.from(y), progress });
      close(await got.item(), w * (1.5 * want.tckd + 8 * want.nckd));
    }
  });
  it('DKD alone: CE + DKD (the Distillation objective with one teacher, λ = 1, CE weight 1)', async () => {
    const obj = new Distillation(1, { temperature: 4, lambda: 1, klReduction: 'batchmean', ceWeight: 1, teacherLoss: { kind: 'dkd', alpha: 1, beta: 8, warmup: 0 }, name: 'dkd' });
    const labels = labelsUp(Int32Array.from(y));
    const out = (m: M) => ({ logits: rows(m), features: [] });
    const { loss } = obj.loss({ x: rows(zs), labels, student: out(zs), companions: [], teachers: [out(zt)], rng: new Rng(0), labelValues: Int32Array.from(y) });
    const ce = await softmaxCrossEntropy(rows(zs), labels).loss.item();
    const want = dkd64(zs, zt, y, 4);
    close(await loss.item(), ce + want.tckd + 8 * want.nckd);
  });
  it('gradient matches finite differences', async () => {
    const s: TeacherLossSettings = { kind: 'dkd', alpha: 1, beta: 8, warmup: 0 };
    await checkGradient((x) => teacherLoss(s, x, rows(zt), { temperature: 4, klReduction: 'batchmean', labels: Int32Array.from(y) }), zs.flat(), [4, 6]);
  });
});

describe('DIST (Huang et al., NeurIPS 2022)', () => {
  const rng = new Rng(28);
  const zs = randM(rng, 5, 7, 2);
  const zt = randM(rng, 5, 7, 3);
  for (const tau of [1, 4]) {
    it(`inter- and intra-class relations at τ = ${tau} equal the formula`, async () => {
      const want = dist64(zs, zt, tau);
      const { inter, intra } = distTerms(rows(zs), rows(zt), tau);
      close(await inter.item(), want.inter, 1e-4, 1e-5);
      close(await intra.item(), want.intra, 1e-4, 1e-5);
    });
  }
  it('at a training batch’s shape (32 × 10) with an untrained student’s small logits', async () => {
    const small = randM(rng, 32, 10, 0.3);
    const teacher = randM(rng, 32, 10, 4);
    const want = dist64(small, teacher, 4);
    const { inter, intra } = distTerms(rows(small), rows(teacher), 4);
    close(await inter.item(), want.inter, 1e-4, 1e-5);
    close(await intra.item(), want.intra, 1e-4, 1e-5);
  });
  it('β·inter + γ·intra; a student equal to its teacher has no loss', async () => {
    const want = dist64(zs, zt, 4);
    const got = teacherLoss({ kind: 'dist', beta: 2, gamma: 3 }, rows(zs), rows(zt), { temperature: 4, klReduction: 'batchmean' });
    close(await got.item(), 2 * want.inter + 3 * want.intra, 1e-4, 1e-5);
    const same = await teacherLoss({ kind: 'dist', beta: 2, gamma: 2 }, rows(zt), rows(zt), { temperature: 4, klReduction: 'batchmean' }).item();
    expect(Math.abs(same)).toBeLessThan(1e-4);
  });
  it('gradient matches finite differences', async () => {
    await checkGradient((x) => teacherLoss({ kind: 'dist', beta: 2, gamma: 2 }, x, rows(zt), { temperature: 4, klReduction: 'batchmean' }), zs.flat(), [5, 7]);
  });
});

describe('DGKD with DKD or DIST per teacher', () => {
  it('ceWeight·CE + λ·Σ_t term(z_s, z_t), the terms summed as for Hinton KD', async () => {
    const rng = new Rng(29);
    const zs = randM(rng, 3, 5, 2);
    const zts = [randM(rng, 3, 5, 3), randM(rng, 3, 5, 3)];
    const y = [1, 4, 0];
    const labels = labelsUp(Int32Array.from(y));
    const ce = await softmaxCrossEntropy(rows(zs), labels).loss.item();
    const out = (m: M) => ({ logits: rows(m), features: [] });
    for (const s of [{ kind: 'dkd', alpha: 1, beta: 8, warmup: 0 }, { kind: 'dist', beta: 2, gamma: 2 }] as TeacherLossSettings[]) {
      const obj = new Distillation(2, { temperature: 4, lambda: 0.5, klReduction: 'batchmean', teacherLoss: s });
      const { loss } = obj.loss({ x: rows(zs), labels, student: out(zs), companions: [], teachers: zts.map(out), rng: new Rng(0), labelValues: Int32Array.from(y), progress: 3 });
      const terms = zts.map((zt) => {
        if (s.kind === 'dkd') {
          const d = dkd64(zs, zt, y, 4);
          return d.tckd + 8 * d.nckd;
        }
        const d = dist64(zs, zt, 4);
        return 2 * d.inter + 2 * d.intra;
      });
      // The paper's CE weight (n + 1)(1 − λ) = 2 · 0.5.
      close(await loss.item(), 1 * ce + 0.5 * (terms[0] + terms[1]), 1e-4, 1e-5);
    }
  });
});

describe('AT (Zagoruyko & Komodakis, ICLR 2017)', () => {
  it('β·Σ_g mean over B·HW of (at(S_g) − at(T_g))², pooled to the smaller map', async () => {
    const rng = new Rng(30);
    const N = 2;
    const fs = Array.from({ length: N * 4 * 4 * 3 }, () => rng.normal());
    const ft = Array.from({ length: N * 2 * 2 * 5 }, () => rng.normal());
    // The student's 4×4 map is average-pooled to the teacher's 2×2 first.
    const pooled: number[] = [];
    for (let n = 0; n < N; n++)
      for (let oy = 0; oy < 2; oy++)
        for (let ox = 0; ox < 2; ox++)
          for (let c = 0; c < 3; c++) {
            let s = 0;
            for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) s += fs[((n * 4 + oy * 2 + dy) * 4 + ox * 2 + dx) * 3 + c];
            pooled.push(s / 4);
          }
    const pairs = matchAttentionGroups([{ height: 4, width: 4 }], [{ height: 2, width: 2 }]);
    const got = attentionTransfer([tensor(fs, [N, 4, 4, 3])], [tensor(ft, [N, 2, 2, 5])], pairs, 1000);
    close(await got.item(), 1000 * at64(pooled, ft, N, 4, 3, 5), 1e-4, 1e-6);
  });
});

describe('RKD (Park et al., CVPR 2019)', () => {
  const rng = new Rng(31);
  const es = randM(rng, 6, 4, 1).map((r) => r.map((v) => Math.abs(v) + 0.5));
  const et = randM(rng, 6, 7, 2).map((r) => r.map((v) => Math.abs(v)));
  it('distance and angle terms equal the formula', async () => {
    const want = rkd64(es, et);
    const { distance, angle } = rkdTerms(rows(es), rows(et));
    close(await distance.item(), want.distance, 1e-4, 1e-6);
    close(await angle.item(), want.angle, 1e-4, 1e-6);
    expect(want.distance).toBeGreaterThan(1e-3);
    expect(want.angle).toBeGreaterThan(1e-3);
  });
  it('smooth-L1 on both sides of 1', async () => {
    const got = await smoothL1(tensor([-3, -0.5, 0, 0.25, 1, 2.5], [6])).read();
    [2.5, 0.125, 0, 0.03125, 0.5, 2].forEach((v, i) => close(got[i], v, 1e-6, 1e-7));
  });
  it('gradient matches finite differences', async () => {
    await checkGradient((x) => {
      const { distance, angle } = rkdTerms(x, rows(et));
      return add(distance, angle);
    }, es.flat(), [6, 4]);
  });
  it('the objective: CE + 25·distance + 50·angle on the pooled last feature maps', async () => {
    const obj = new RelationalKd({ distance: 25, angle: 50, ceWeight: 1 });
    const B = 6;
    // Feature maps whose global average is the embedding: every position holds it.
    const map = (e: M) => tensor(e.flatMap((r) => [...r, ...r, ...r, ...r]), [B, 2, 2, e[0].length]);
    const logits = rows(randM(rng, B, 3));
    const labels = labelsUp(Int32Array.from([0, 1, 2, 0, 1, 2]));
    const { loss } = obj.loss({ x: logits, labels, student: { logits, features: [map(es)] }, companions: [], teachers: [{ logits, features: [map(et)] }], rng });
    const want = rkd64(es, et);
    const ce = await softmaxCrossEntropy(logits, labels).loss.item();
    close(await loss.item(), ce + 25 * want.distance + 50 * want.angle, 1e-4, 1e-5);
  });
});

describe('FitNets (Romero et al., ICLR 2015)', () => {
  const f = (height: number, channels: number) => ({ height, width: height, channels });
  it('hint layers: the middle of the student, the teacher’s map of that size; mdistiller’s regressor shapes', () => {
    // resnet → resnet (32, 16, 8): the middle stage, a 1×1 conv.
    expect(planHint([f(32, 16), f(16, 32), f(8, 64)], [f(32, 16), f(16, 32), f(8, 64)])).toMatchObject({ student: 1, teacher: 1, kernel: 1, stride: 1, teacherPool: 1, inChannels: 32, outChannels: 32 });
    // plain2 (16, 8) from plain4 (16, 8): the first of two.
    expect(planHint([f(16, 16), f(8, 16)], [f(16, 16), f(8, 32)])).toMatchObject({ student: 0, teacher: 0, kernel: 1, outChannels: 16 });
    // A student map twice the teacher's: a 3×3 stride-2 conv; larger otherwise: a (1 + Hs − Ht)-wide conv.
    expect(planHint([f(16, 8)], [f(8, 32)])).toMatchObject({ kernel: 3, stride: 2, pad: 1 });
    expect(planHint([f(16, 8)], [f(4, 32)])).toMatchObject({ kernel: 13, stride: 1, pad: 0 });
    // A teacher map larger than the student's: the teacher's is average-pooled.
    expect(planHint([f(8, 8)], [f(32, 16)])).toMatchObject({ kernel: 1, teacherPool: 4 });
    expect(() => planHint([f(7, 8)], [f(3, 8)])).not.toThrow(); // 7 → 3: a 5×5 conv
    expect(() => planHint([f(3, 8)], [f(7, 8)])).toThrow(HintMatchError);
  });
  it('CE + w·MSE(regressor(S_h), T_h); the regressor learns, the teacher does not, the student export has no regressor', async () => {
    const rng = new Rng(32);
    const student = createModel('plain2', { numClasses: 10, seed: 1 });
    const teacher = createModel('plain4', { numClasses: 10, seed: 2 }).eval();
    const plan = planHint([f(16, 16), f(8, 16)], [f(16, 16), f(8, 32)]);
    const reg = new HintRegressor(plan, new Rng(3));
    const obj = new FitNets(reg, { weight: 100, ceWeight: 1 });
    const x = tensor(Float32Array.from({ length: 4 * 32 * 32 * 3 }, () => rng.normal()), [4, 32, 32, 3]);
    const labels = labelsUp(Int32Array.from([1, 2, 3, 4]));
    const s = student.forwardWithFeatures(x);
    const t = noGrad(() => teacher.forwardWithFeatures(x));
    const { loss } = obj.loss({ x, labels, student: s, companions: [], teachers: [t], rng });
    const r = Array.from(await noGrad(() => reg.forward(s.features[0])).read());
    const target = await t.features[0].read();
    const mse = r.reduce((a, v, i) => a + (v - target[i]) ** 2, 0) / r.length;
    const ce = await softmaxCrossEntropy(s.logits, labels).loss.item();
    close(await loss.item(), ce + 100 * mse, 1e-4, 1e-5);
    backward(loss);
    expect(reg.parameters().every((p) => p.grad)).toBe(true);
    expect(teacher.parameters().some((p) => p.grad)).toBe(false);
    expect(student.namedParameters().some(([n]) => n.startsWith('conv.') || n.startsWith('bn.weight'))).toBe(false);
    [student, teacher, reg].forEach((m) => m.dispose());
  });
});

// ---- the plan: --compare lists, --teacher-loss, keys ------------------------------------------------------------

describe('planning the baselines', () => {
  const base = () => {
    const c = quickConfig();
    c.teacher = 'plain4';
    c.assistants = ['plain3'];
    c.student = 'plain2';
    c.seeds = 1;
    return c;
  };
  it('--compare alone plans today’s rows and stage keys (none of the new settings enters them)', () => {
    const c = base();
    const { rows, stages } = planStages(c, 10, 0);
    expect(rows.map((r) => r.method)).toEqual(['Teacher', 'NOKD', 'KD', 'TAKD', 'DGKD', 'DGKD (stochastic, p = 0.75)', 'DGKD (loss ÷ teachers)']);
    expect(stages.every((s) => s.extra === undefined)).toBe(true);
    // Changing a baseline's weights changes no stage of the default set.
    const d = base();
    d.dkd = { alpha: 3, beta: 1, warmup: 5 };
    d.dist = { beta: 9, gamma: 9 };
    d.at.beta = 1;
    expect(planStages(d, 10, 0).stages.map((s) => s.key)).toEqual(stages.map((s) => s.key));
  });
  it('a list plans exactly its rows, in its order; a chain row takes -dkd / -dist or --teacher-loss', () => {
    const c = base();
    c.compare = ['nokd', 'dkd', 'dgkd', 'dgkd-dkd', 'takd-dist', 'dist', 'at', 'fitnets', 'rkd'];
    const { rows, stages } = planStages(c, 10, 0);
    expect(rows.map((r) => r.method)).toEqual(['Teacher', 'NOKD', 'DKD', 'DGKD', 'DGKD (DKD loss)', 'TAKD (DIST loss)', 'DIST', 'AT', 'FitNets', 'RKD']);
    const row = (m: string) => rows.find((r) => r.method === m)!.stage;
    expect(row('DKD').extra).toEqual({ ceWeight: 1, temperature: 4, teacherLoss: { kind: 'dkd', alpha: 1, beta: 8, warmup: 3 / 12 } });
    expect(row('DIST').extra).toEqual({ ceWeight: 1, temperature: 4, teacherLoss: { kind: 'dist', beta: 2, gamma: 2 } });
    expect(row('AT').extra).toEqual({ ceWeight: 1, at: { beta: 1000 } });
    expect(row('FitNets').extra).toEqual({ ceWeight: 1, fitnets: { weight: 100 } });
    expect(row('RKD').extra).toEqual({ ceWeight: 1, rkd: { distance: 25, angle: 50 } });
    // Dense guidance with DKD: the assistant learns with DKD too; the Hinton-KD DGKD stays as it was.
    const dense = row('DGKD (DKD loss)');
    expect(dense.name).toBe('student-plain2-dgkd-dkd');
    expect(dense.teachers[1].extra?.teacherLoss?.kind).toBe('dkd');
    expect(row('DGKD').extra).toBeUndefined();
    expect(row('DGKD').key).toBe(planStages(base(), 10, 0).rows.find((r) => r.method === 'DGKD')!.stage.key);
    expect(new Set(stages.map((s) => s.key)).size).toBe(stages.length);
    // --teacher-loss sets the chain rows without a suffix (and -kd forces Hinton KD).
    c.teacherLoss = 'dist';
    c.compare = ['dgkd', 'dgkd-kd'];
    const p = planStages(c, 10, 0);
    expect(p.rows.map((r) => r.method)).toEqual(['Teacher', 'DGKD (DIST loss)', 'DGKD']);
  });
  it('--method dkd alone, and a CE weight given as a number reaches the baselines', () => {
    const c = base();
    c.compare = false;
    c.method = 'dkd';
    c.kd.ceWeight = 0.5;
    const { rows } = planStages(c, 10, 0);
    expect(rows.map((r) => r.method)).toEqual(['Teacher', 'DKD']);
    expect(rows[1].stage.extra?.ceWeight).toBe(0.5);
  });
});

describe('runs made before the baselines existed', () => {
  it('resume: a config without the new keys is the same run as one with their defaults', () => {
    const now = cifar10GapConfig();
    const before = structuredClone(now) as unknown as Record<string, unknown>;
    for (const k of ['teacherLoss', 'dkd', 'dist', 'at', 'fitnets', 'rkd']) delete before[k];
    expect(settingsDiff(before, now)).toEqual([]);
    now.dkd.beta = 2;
    expect(settingsDiff(before, now)).toEqual(['dkd.beta: was (absent), now 2']);
  });
});
