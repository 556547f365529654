// `train.ts sweep`: the students of one method over a grid of two of its settings (sweep_axes.ts): T × λ for KD,
// TAKD and DGKD; α × β for DKD (and for TAKD/DGKD with --teacher-loss dkd); β × γ for DIST. The teacher and
// assistants are trained once (with the base settings) and every grid point's students reuse them; finished
// stages are reused across runs as anywhere else. Writes the usual reports plus sweep.md (the grid's table) and
// heatmap.svg (mean test accuracy at the best validation epoch per cell).

import { join } from 'node:path';
import type { ExperimentConfig } from '../settings/config.ts';
import { setPath } from '../settings/options.ts';
import { runExperiment, type StageExecutor, type Variant } from './run.ts';
import { writeFileAtomic } from '../fit/atomic.ts';
import { heatmapSvg } from './plots.ts';
import type { Summary } from './report.ts';
import { gridLabel, gridTag, type SweepGrid } from '../settings/sweep_axes.ts';

export type { SweepGrid } from '../settings/sweep_axes.ts';

export async function runSweep(
  cfg: ExperimentConfig,
  grid: SweepGrid,
  signal: { stop: boolean } = { stop: false },
  executor?: StageExecutor,
): Promise<{ summary: Summary; markdown: string }> {
  const { rows, cols } = grid;
  const variants: Variant[] = rows.values.flatMap((r) =>
    cols.values.map((c) => {
      const student = structuredClone({ kd: cfg.kd, dkd: cfg.dkd, dist: cfg.dist });
      setPath(student as unknown as Record<string, unknown>, rows.key, r);
      setPath(student as unknown as Record<string, unknown>, cols.key, c);
      return { label: gridLabel(rows, r, cols, c), tag: gridTag(rows, r, cols, c), ...student };
    }),
  );
  const summary = await runExperiment(cfg, signal, variants, executor);
  const cell = (r: number, c: number) => summary.table.find((row) => row.method === gridLabel(rows, r, cols, c));
  const mean = rows.values.map((r) => cols.values.map((c) => cell(r, c)?.best.mean ?? NaN));
  const std = rows.values.map((r) => cols.values.map((c) => cell(r, c)?.best.std ?? 0));
  const title = `${cfg.method.toUpperCase()} ${cfg.student} on ${cfg.dataset}: test accuracy over ${rows.symbol} and ${cols.symbol}`;
  const dir = join(cfg.out, cfg.name);
  writeFileAtomic(
    join(dir, 'heatmap.svg'),
    heatmapSvg({
      title, rowLabel: rows.label, colLabel: cols.label,
      rows: rows.values.map((r) => `${rows.symbol} = ${r}`), cols: cols.values.map((c) => `${cols.symbol} = ${c}`), mean, std,
    }),
  );
  const pct = (v: number, s: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}${s > 0 ? ` ± ${(s * 100).toFixed(2)}` : ''}` : '—');
  const teacher = summary.table.find((r) => r.method === 'Teacher');
  const labels = new Set(variants.map((v) => v.label));
  const best = summary.table.filter((r) => labels.has(r.method)).sort((a, b) => b.best.mean - a.best.mean)[0];
  const markdown = [
    `# ${title}`,
    '',
    `Test accuracy (%) at the best ${summary.selection} epoch, mean ± std over ${cfg.seeds} seed${cfg.seeds > 1 ? 's' : ''}.` +
      (teacher ? ` Teacher ${teacher.arch}: ${pct(teacher.best.mean, 0)}.` : '') +
      (best ? ` Best cell: ${best.method} (${pct(best.best.mean, best.best.std)}).` : ''),
    '',
    `| ${rows.symbol} \\ ${cols.symbol} | ${cols.values.map((c) => `${cols.symbol} = ${c}`).join(' | ')} |`,
    `|---|${cols.values.map(() => '---').join('|')}|`,
    ...rows.values.map((r, i) => `| ${rows.symbol} = ${r} | ${cols.values.map((_, j) => pct(mean[i][j], std[i][j])).join(' | ')} |`),
    '',
    '![heat map](heatmap.svg)',
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'sweep.md'), markdown);
  return { summary, markdown };
}
