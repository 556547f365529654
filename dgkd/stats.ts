// Paired tests for per-seed differences (method − baseline on the same seed): Student's t-test and the exact sign
// test, both two-sided. Few seeds make both weak: with five, the sign test cannot go below p = 0.0625, which the
// report says rather than hides.

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: ~15 digits). */
function logGamma(x: number): number {
  const c = [0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  x -= 1;
  let a = c[0];
  const t = x + 7.5;
  for (let i = 1; i < 9; i++) a += c[i] / (x + i);
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a);
}

/** The continued fraction of the incomplete beta function (modified Lentz). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  d = 1 / (Math.abs(d) < tiny ? tiny : d);
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    for (const aa of [(m * (b - m) * x) / ((a + m2 - 1) * (a + m2)), (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1))]) {
      d = 1 + aa * d;
      d = 1 / (Math.abs(d) < tiny ? tiny : d);
      c = 1 + aa / c;
      if (Math.abs(c) < tiny) c = tiny;
      h *= d * c;
    }
    if (Math.abs(d * c - 1) < 1e-15) break;
  }
  return h;
}

/** The regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2) ? (front * betaFraction(a, b, x)) / a : 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

export interface PairedT {
  n: number;
  mean: number;
  t: number;
  /** Two-sided p-value; NaN with fewer than two pairs or no spread. */
  p: number;
  /** The 95% confidence interval of the mean difference (NaN bounds with fewer than two pairs). */
  ci95: [number, number];
}

/** The two-sided p-value of Student's t with df degrees of freedom. */
function tTwoSidedP(t: number, df: number): number {
  return incompleteBeta(df / (df + t * t), df / 2, 0.5);
}

/** The t with two-sided p-value `p` (e.g. 0.05 → the 97.5% quantile), by bisection on the p-value, which falls as t grows. */
export function tCritical(p: number, df: number): number {
  let lo = 0;
  let hi = 1;
  while (tTwoSidedP(hi, df) > p) hi *= 2;
  for (let i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
    const mid = (lo + hi) / 2;
    if (tTwoSidedP(mid, df) > p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Student's paired t-test of the differences against 0. */
export function pairedTTest(diffs: number[]): PairedT {
  const n = diffs.length;
  const mean = diffs.reduce((a, b) => a + b, 0) / Math.max(n, 1);
  if (n < 2) return { n, mean, t: NaN, p: NaN, ci95: [NaN, NaN] };
  const sd = Math.sqrt(diffs.reduce((a, d) => a + (d - mean) ** 2, 0) / (n - 1));
  // No spread (up to rounding: 0.1 three times has a std of 1e-17): the t statistic is infinite.
  if (sd <= 1e-12 * Math.abs(mean) || sd === 0) return { n, mean, t: mean === 0 ? 0 : Math.sign(mean) * Infinity, p: mean === 0 ? 1 : 0, ci95: [mean, mean] };
  const se = sd / Math.sqrt(n);
  const t = mean / se;
  const df = n - 1;
  const half = tCritical(0.05, df) * se;
  return { n, mean, t, p: tTwoSidedP(t, df), ci95: [mean - half, mean + half] };
}

export interface SignTest {
  wins: number;
  losses: number;
  ties: number;
  /** Two-sided exact binomial p-value over the non-tied pairs (1 with none). */
  p: number;
}

/** The exact sign test: how often the difference is positive, against a fair coin. */
export function signTest(diffs: number[]): SignTest {
  const wins = diffs.filter((d) => d > 0).length;
  const losses = diffs.filter((d) => d < 0).length;
  const n = wins + losses;
  const k = Math.min(wins, losses);
  let tail = 0;
  let choose = 1; // C(n, i), exact in doubles for any number of seeds a table has
  for (let i = 0; i <= k; i++) {
    tail += choose;
    choose = (choose * (n - i)) / (i + 1);
  }
  tail /= 2 ** n;
  return { wins, losses, ties: diffs.length - n, p: n === 0 ? 1 : Math.min(1, 2 * tail) };
}
