// Run outputs: summary.json (machine-readable), report.md (the paper-style table, settings, adapter) and
// curves.svg (test accuracy and training loss per epoch, one line per method with a mean ± std band across
// seeds). All written atomically, after every finished stage.

import { join } from 'node:path';
import { writeFileAtomic } from '../fit/atomic.ts';
import { curvesSvg, type Curve } from './plots.ts';
import { pairedTTest, signTest } from '../stats.ts';

export type { Curve } from './plots.ts';

export interface StageSummary {
  name: string;
  role: string;
  arch: string;
  method: string;
  teachers: string[];
  params: number;
  /** The epoch chosen as best (on the validation split when there is one), its validation accuracy. */
  bestEpoch: number;
  bestVal: number | null;
  /** Test accuracy at bestEpoch and after the last epoch. */
  bestAcc: number;
  finalAcc: number;
  epochs: number;
  /** Training time, recorded when the stage was trained (also when a resumed run reuses it). */
  seconds: number;
  reused: boolean;
  seed: number;
  key: string;
}

/** One table row's result for one seed. */
export interface SeedResult {
  method: string;
  arch: string;
  seed: number;
  /** A teacher/assistant trained once and shared by every seed's students. */
  shared: boolean;
  best: number;
  final: number;
  bestEpoch: number;
}

export interface Stat {
  mean: number;
  std: number;
}

export interface TableRow {
  method: string;
  arch: string;
  seeds: number;
  shared: boolean;
  best: Stat;
  final: Stat;
  /** Per-seed differences from NOKD on the same seed (same data order), in accuracy units; null without NOKD. */
  deltaBest: Stat | null;
  deltaFinal: Stat | null;
}

export interface Summary {
  name: string;
  dataset: string;
  /** The content of the run's data (dataFingerprint), which its stage keys hold (absent in runs made before). */
  dataId?: string;
  data: { train: { name: string; size: number }; val: { name: string; size: number } | null; test: { name: string; size: number } };
  /** Which split chose the best epoch. */
  selection: 'validation' | 'test';
  /** Whether the teacher and assistants were trained once for all seeds. */
  sharedTrainers: boolean;
  adapter: string;
  /** Wall time of the invocation that wrote the summary (a resumed run's reused stages cost it nothing). */
  seconds: number;
  /** Every stage's training time summed, reused stages included: what the results cost (absent in older runs). */
  trainingSeconds?: number;
  /** Peak resident memory of the process so far (MiB). */
  peakRssMB: number;
  /** False while the run is still going (the table holds the rows finished so far). */
  complete: boolean;
  config: unknown;
  stages: StageSummary[];
  table: TableRow[];
  /** Each method against NOKD and KD (and the papers' steps, PAIRED_BASELINES), paired per seed (absent in runs made before it existed). */
  comparisons?: Comparison[];
  perSeed: SeedResult[];
}

/** One method against a baseline on one measure, over the seeds both have. */
export interface Comparison {
  method: string;
  baseline: string;
  measure: 'best' | 'final';
  seeds: number;
  /** The per-seed differences (method − baseline, accuracy units), their mean and sample std. */
  deltas: number[];
  delta: Stat;
  /** Paired t-test and exact sign test, two-sided. */
  t: number;
  pT: number;
  /** The t interval that holds the mean difference with 95% confidence (absent in runs made before it). */
  ci95?: [number, number];
  wins: number;
  losses: number;
  pSign: number;
}

/**
 * What each method is paired with: every method with NOKD and with KD, and the steps the papers claim — DGKD and
 * its variants with TAKD (dense teaching against the assistant chain), and DGKD's variants (stochastic teaching,
 * the loss ÷ teachers) with plain DGKD.
 */
export const PAIRED_BASELINES: { baseline: string; pairs: (method: string) => boolean }[] = [
  { baseline: 'NOKD', pairs: () => true },
  { baseline: 'KD', pairs: (m) => m !== 'NOKD' },
  { baseline: 'TAKD', pairs: (m) => m === 'DGKD' || m.startsWith('DGKD (') },
  { baseline: 'DGKD', pairs: (m) => m.startsWith('DGKD (') },
];

/** Every student method against its baselines (PAIRED_BASELINES), on best and final accuracy, where both ran on two or more seeds. */
export function pairedComparisons(perSeed: SeedResult[]): Comparison[] {
  const out: Comparison[] = [];
  const methods = [...new Set(perSeed.filter((p) => !p.shared && p.method !== 'Teacher').map((p) => p.method))];
  for (const { baseline, pairs: paired } of PAIRED_BASELINES) {
    const base = new Map(perSeed.filter((p) => p.method === baseline).map((p) => [p.seed, p]));
    for (const method of methods) {
      if (method === baseline || !paired(method)) continue;
      const pairs = perSeed.filter((p) => p.method === method && base.has(p.seed));
      if (pairs.length < 2) continue;
      for (const measure of ['best', 'final'] as const) {
        const deltas = pairs.map((p) => p[measure] - base.get(p.seed)![measure]);
        const t = pairedTTest(deltas);
        const s = signTest(deltas);
        out.push({ method, baseline, measure, seeds: pairs.length, deltas, delta: meanStd(deltas), t: t.t, pT: t.p, ci95: t.ci95, wins: s.wins, losses: s.losses, pSign: s.p });
      }
    }
  }
  return out;
}

const interval = (ci: [number, number] | undefined) =>
  !ci || ci.some(Number.isNaN) ? '–' : `${signed(ci[0])} to ${signed(ci[1])}`;
const pValue = (p: number) => (Number.isNaN(p) ? '–' : p < 0.001 ? '< 0.001' : p.toFixed(3));

/** The paired tests as a markdown table. */
export function formatComparisons(cs: Comparison[]): string {
  const lines = [
    '| Method | against | measure | seeds | Δ (points) | 95% CI of Δ | per seed | t-test p | wins–losses | sign-test p |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...cs.map((c) =>
      `| ${c.method} | ${c.baseline} | ${c.measure} | ${c.seeds} | ${signed(c.delta.mean)} ± ${pct(c.delta.std)} | ${interval(c.ci95)} | ` +
      `${c.deltas.map((d) => signed(d)).join(', ')} | ${pValue(c.pT)} | ${c.wins}–${c.losses} | ${pValue(c.pSign)} |`),
  ];
  return lines.join('\n');
}

/** Mean and sample standard deviation (0 for a single value). */
export function meanStd(xs: number[]): Stat {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

export function buildTable(perSeed: SeedResult[]): TableRow[] {
  const nokd = new Map(perSeed.filter((p) => p.method === 'NOKD').map((p) => [p.seed, p]));
  return [...new Set(perSeed.map((p) => p.method))].map((method) => {
    const rows = perSeed.filter((p) => p.method === method);
    const paired = rows.filter((r) => nokd.has(r.seed));
    const delta = (f: (r: SeedResult) => number) =>
      method !== 'NOKD' && paired.length ? meanStd(paired.map((r) => f(r) - f(nokd.get(r.seed)!))) : null;
    return {
      method,
      arch: rows[0].arch,
      seeds: rows.length,
      shared: rows[0].shared,
      best: meanStd(rows.map((r) => r.best)),
      final: meanStd(rows.map((r) => r.final)),
      deltaBest: delta((r) => r.best),
      deltaFinal: delta((r) => r.final),
    };
  });
}

const pct = (v: number) => (v * 100).toFixed(2);
const signed = (v: number) => (v >= 0 ? '+' : '−') + Math.abs(v * 100).toFixed(2);

export function formatTable(table: TableRow[], selection: 'validation' | 'test' = 'validation'): string {
  const multi = table.some((r) => r.seeds > 1);
  const cell = (s: Stat, n: number) => (multi && n > 1 ? `${pct(s.mean)} ± ${pct(s.std)}` : pct(s.mean));
  const dcell = (s: Stat | null, n: number) => (s ? (multi && n > 1 ? `${signed(s.mean)} ± ${pct(s.std)}` : signed(s.mean)) : '');
  const bestHeader = selection === 'validation' ? 'Test @ best val (%)' : 'Test @ best test (%)';
  const header = ['Method', 'Model', 'Seeds', bestHeader, 'Test final (%)', 'Δ best vs NOKD', 'Δ final vs NOKD'];
  const rows = table.map((r) => [
    r.method,
    r.arch,
    r.shared && multi ? '1 (shared)' : String(r.seeds),
    cell(r.best, r.shared ? 1 : r.seeds),
    cell(r.final, r.shared ? 1 : r.seeds),
    dcell(r.deltaBest, r.seeds),
    dcell(r.deltaFinal, r.seeds),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/** What the table's columns mean, printed under it. */
export function tableNotes(s: Summary): string {
  const sel =
    s.selection === 'validation'
      ? `"Test @ best val": test accuracy at the epoch with the best accuracy on the validation split (${s.data.val?.size} images held out of the training data)`
      : '"Test @ best test": the best test accuracy over epochs (no validation split was held out: an optimistic number)';
  return [
    `${sel}; "Test final": after the last epoch. Test set: ${s.data.test.name}, ${s.data.test.size} images.`,
    'Mean ± sample std over seeds; Δ: the per-seed difference from NOKD on the same seed (same data order), in points.',
    ...(s.sharedTrainers ? ['The teacher and assistants were trained once and shared by every seed\'s students.'] : []),
  ].join('\n');
}

/** What the wall time covers when stages were reused: only this invocation's work, not the results' cost. */
function wallTimeScope(s: Summary): string {
  const reused = s.stages.filter((st) => st.reused).length;
  if (reused === 0) return '';
  return reused === s.stages.length ? ' (this invocation: every stage reused)' : ` (this invocation: ${reused} of ${s.stages.length} stages reused)`;
}

export function writeReports(dir: string, summary: Summary, curves: Curve[]): void {
  writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const stageLines = summary.stages.map(
    (s) =>
      `| ${s.name} | ${s.role} | ${s.arch} | ${s.method} | ${s.teachers.join(', ') || '—'} | ${s.params} | ${s.bestEpoch} | ${pct(s.bestAcc)} | ${pct(s.finalAcc)} | ${s.epochs} | ${s.seconds.toFixed(0)} s${s.reused ? ' (reused)' : ''} |`,
  );
  const md = [
    `# ${summary.name}`,
    '',
    `Dataset: ${summary.dataset} (train ${summary.data.train.size}, ${summary.data.val ? `validation ${summary.data.val.size}, ` : ''}test ${summary.data.test.size}). ` +
      `Adapter: ${summary.adapter}. Wall time: ${summary.seconds.toFixed(0)} s${wallTimeScope(summary)}` +
      (summary.trainingSeconds !== undefined ? `. Training time summed over the stages, reused ones included: ${summary.trainingSeconds.toFixed(0)} s` : '') +
      `. Peak resident memory: ${summary.peakRssMB} MiB.` +
      (summary.complete ? '' : ' **Run in progress: the table holds the rows finished so far.**'),
    '',
    '## Results',
    '',
    formatTable(summary.table, summary.selection),
    '',
    tableNotes(summary),
    '',
    ...(summary.comparisons?.length
      ? ['## Paired tests', '', 'Each method against NOKD and KD on the same seeds (same data order and initialisation), and the papers\' ' +
          'steps: DGKD and its variants against TAKD, the variants against DGKD. The per-seed ' +
          'differences, the t interval that holds their mean with 95% confidence, a two-sided paired t-test and a two-sided exact sign ' +
          'test (with n seeds the sign test cannot go below 2/2ⁿ).', '',
        formatComparisons(summary.comparisons), '']
      : []),
    '![test accuracy and training loss per epoch](curves.svg)',
    '',
    '## Stages',
    '',
    'Each stage\'s per-epoch metrics are in `stages/<stage>.jsonl`.',
    '',
    '| Stage | Role | Model | Method | Teachers | Params | Best epoch | Test @ best (%) | Test final (%) | Epochs | Time |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...stageLines,
    '',
    '## Settings',
    '',
    '```json',
    JSON.stringify(summary.config, null, 2),
    '```',
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'report.md'), md);
  writeFileAtomic(join(dir, 'curves.svg'), curvesSvg(curves, `${summary.name}: ${summary.dataset}`));
}

