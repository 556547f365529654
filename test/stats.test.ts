// The paired tests of the report (dgkd/stats.ts) against textbook values and a numerical integration.
import { expect, it } from 'vitest';
import { incompleteBeta, pairedTTest, signTest, tCritical } from '../dgkd/stats.ts';
import { formatComparisons, pairedComparisons, type SeedResult } from '../dgkd/experiment/report.ts';

/** Two-sided p of Student's t by integrating its density (Simpson, on a substitution that makes the tail finite). */
function tTwoSidedNumeric(t: number, df: number): number {
  const logC = lgamma((df + 1) / 2) - lgamma(df / 2) - 0.5 * Math.log(df * Math.PI);
  const pdf = (x: number) => Math.exp(logC - ((df + 1) / 2) * Math.log(1 + (x * x) / df));
  // ∫_|t|^∞ pdf(x) dx with x = |t| + u / (1 − u), u ∈ [0, 1).
  const f = (u: number) => (u >= 1 ? 0 : pdf(Math.abs(t) + u / (1 - u)) / (1 - u) ** 2);
  const n = 20000;
  let s = f(0) + f(1);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * f(i / n);
  return (2 * s) / (3 * n);
}
function lgamma(x: number): number {
  // Stirling with enough correction terms for x ≥ 0.5 after shifting up.
  let shift = 0;
  while (x < 10) shift += Math.log(x++);
  return (x - 0.5) * Math.log(x) - x + 0.5 * Math.log(2 * Math.PI) + 1 / (12 * x) - 1 / (360 * x ** 3) + 1 / (1260 * x ** 5) - shift;
}

it('incompleteBeta matches closed forms', () => {
  expect(incompleteBeta(0.5, 2, 3)).toBeCloseTo(0.6875, 12); // I_x(2,3) = 6x²(1/2 − 2x/3 + x²/4)·… = 11/16 at 1/2
  expect(incompleteBeta(0.3, 1, 1)).toBeCloseTo(0.3, 12);
  expect(incompleteBeta(0.2, 1, 4)).toBeCloseTo(1 - 0.8 ** 4, 12);
});

it('pairedTTest gives the textbook t and p', () => {
  const r = pairedTTest([1, 2, 3, 4, 5]);
  expect(r.t).toBeCloseTo(4.242640687, 8);
  expect(r.p).toBeCloseTo(0.013236, 5); // scipy.stats.ttest_1samp([1, 2, 3, 4, 5], 0)
  for (const diffs of [[0.5, -0.2, 0.3], [0.011, 0.004, -0.002, 0.008, 0.015], [-3, -1, -2, 0.5]]) {
    const t = pairedTTest(diffs);
    expect(t.p).toBeCloseTo(tTwoSidedNumeric(t.t, diffs.length - 1), 6);
  }
  expect(pairedTTest([0.2]).p).toBeNaN();
  expect(pairedTTest([0.1, 0.1, 0.1]).p).toBe(0);
});

it('tCritical and the confidence interval match the t tables', () => {
  // scipy.stats.t.ppf(0.975, df) for df = 1, 4, 10, 30
  expect(tCritical(0.05, 1)).toBeCloseTo(12.706204736, 6);
  expect(tCritical(0.05, 4)).toBeCloseTo(2.776445105, 8);
  expect(tCritical(0.05, 10)).toBeCloseTo(2.228138852, 8);
  expect(tCritical(0.05, 30)).toBeCloseTo(2.042272456, 8);
  const [low, high] = pairedTTest([1, 2, 3, 4, 5]).ci95; // 3 ± 2.7764 · √2.5 / √5
  expect(low).toBeCloseTo(3 - 2.776445105 * Math.sqrt(0.5), 8);
  expect(high).toBeCloseTo(3 + 2.776445105 * Math.sqrt(0.5), 8);
  expect(pairedTTest([0.2]).ci95.every(Number.isNaN)).toBe(true);
  for (const bound of pairedTTest([0.1, 0.1, 0.1]).ci95) expect(bound).toBeCloseTo(0.1, 12); // no spread: the mean itself
});

it('signTest is the exact two-sided binomial', () => {
  expect(signTest([1, 2, 3, 4, 5])).toEqual({ wins: 5, losses: 0, ties: 0, p: 0.0625 });
  expect(signTest([1, -1, 2, 0])).toMatchObject({ wins: 2, losses: 1, ties: 1, p: 1 });
  expect(signTest([1, 1, 1, 1, 1, 1, 1, 1, -1, -1]).p).toBeCloseTo((2 * (1 + 10 + 45)) / 1024, 12);
});

it('the report pairs each method with NOKD and KD by seed, and the papers’ steps (DGKD vs TAKD, its variants vs DGKD)', () => {
  const rows: SeedResult[] = [];
  const add = (method: string, seed: number, acc: number) => rows.push({ method, arch: 'plain2', seed, shared: false, best: acc, final: acc - 0.001, bestEpoch: 3 });
  rows.push({ method: 'Teacher', arch: 'plain8', seed: 0, shared: true, best: 0.9, final: 0.9, bestEpoch: 40 });
  [0.60, 0.61, 0.62].forEach((a, s) => add('NOKD', s, a));
  [0.63, 0.63, 0.65].forEach((a, s) => add('KD', s, a));
  [0.64, 0.66].forEach((a, s) => add('DGKD', s, a));
  const cs = pairedComparisons(rows);
  expect(cs.map((c) => `${c.method}/${c.baseline}/${c.measure}/${c.seeds}`)).toEqual([
    'KD/NOKD/best/3', 'KD/NOKD/final/3', 'DGKD/NOKD/best/2', 'DGKD/NOKD/final/2', 'DGKD/KD/best/2', 'DGKD/KD/final/2',
  ]);
  const kd = cs[0];
  expect(kd.deltas.map((d) => Math.round(d * 1e4) / 1e4)).toEqual([0.03, 0.02, 0.03]);
  expect(kd.wins).toBe(3);
  // With TAKD and DGKD's variants in the run, the papers' steps too: DGKD and its variants against TAKD, the variants against DGKD.
  [0.62, 0.64].forEach((a, s) => add('TAKD', s, a));
  [0.65, 0.65].forEach((a, s) => add('DGKD (stochastic, p = 0.75)', s, a));
  const steps = pairedComparisons(rows).filter((c) => c.measure === 'best' && c.baseline !== 'NOKD' && c.baseline !== 'KD');
  expect(steps.map((c) => `${c.method}/${c.baseline}`)).toEqual(['DGKD/TAKD', 'DGKD (stochastic, p = 0.75)/TAKD', 'DGKD (stochastic, p = 0.75)/DGKD']);
  expect(steps[0].deltas.map((d) => Math.round(d * 1e4) / 1e4)).toEqual([0.02, 0.02]);
  expect(formatComparisons(cs).split('\n')[2]).toMatch(/^\| KD \| NOKD \| best \| 3 \| \+2\.67 ± 0\.58 \| \+1\.23 to \+4\.10 \| \+3\.00, \+2\.00, \+3\.00 \| 0\.0\d\d \| 3–0 \| 0\.250 \|$/);
});
