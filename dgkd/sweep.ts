// `train.ts sweep`: the students of a KD or DGKD experiment over a grid of temperatures T and weights λ. The
// teacher and assistants are trained once (with the base settings) and every grid point's students reuse them;
// finished stages are reused across runs as anywhere else. Writes the usual reports plus sweep.md (a T × λ table)
// and heatmap.svg (mean test accuracy at the best validation epoch per cell).

import { join } from 'node:path';
import type { ExperimentConfig } from './config.ts';
import { runExperiment, type StageExecutor, type Variant } from './pipeline.ts';
import { writeFileAtomic } from './train/atomic.ts';
import { heatmapSvg } from './plots.ts';
import type { Summary } from './report.ts';

export interface SweepGrid {
  temperatures: number[];
  lambdas: number[];
}

export const gridLabel = (T: number, lambda: number) => `T=${T} λ=${lambda}`;

export async function runSweep(
  cfg: ExperimentConfig,
  grid: SweepGrid,
  signal: { stop: boolean } = { stop: false },
  executor?: StageExecutor,
): Promise<{ summary: Summary; markdown: string }> {
  const variants: Variant[] = grid.temperatures.flatMap((T) =>
    grid.lambdas.map((lambda) => ({ label: gridLabel(T, lambda), tag: `-T${T}-l${lambda}`, kd: { ...cfg.kd, temperature: T, lambda } })),
  );
  const summary = await runExperiment(cfg, signal, variants, executor);
  const cell = (T: number, lambda: number) => summary.table.find((r) => r.method === gridLabel(T, lambda));
  const mean = grid.temperatures.map((T) => grid.lambdas.map((l) => cell(T, l)?.best.mean ?? NaN));
  const std = grid.temperatures.map((T) => grid.lambdas.map((l) => cell(T, l)?.best.std ?? 0));
  const title = `${cfg.method.toUpperCase()} ${cfg.student} on ${cfg.dataset}: test accuracy over T and λ`;
  const dir = join(cfg.out, cfg.name);
  writeFileAtomic(
    join(dir, 'heatmap.svg'),
    heatmapSvg({ title, rowLabel: 'temperature T', colLabel: 'KD weight λ', rows: grid.temperatures.map((T) => `T = ${T}`), cols: grid.lambdas.map((l) => `λ = ${l}`), mean, std }),
  );
  const pct = (v: number, s: number) => (Number.isFinite(v) ? `${(v * 100).toFixed(2)}${s > 0 ? ` ± ${(s * 100).toFixed(2)}` : ''}` : '—');
  const teacher = summary.table.find((r) => r.method === 'Teacher');
  const best = summary.table.filter((r) => r.method.startsWith('T=')).sort((a, b) => b.best.mean - a.best.mean)[0];
  const markdown = [
    `# ${title}`,
    '',
    `Test accuracy (%) at the best ${summary.selection} epoch, mean ± std over ${cfg.seeds} seed${cfg.seeds > 1 ? 's' : ''}.` +
      (teacher ? ` Teacher ${teacher.arch}: ${pct(teacher.best.mean, 0)}.` : '') +
      (best ? ` Best cell: ${best.method} (${pct(best.best.mean, best.best.std)}).` : ''),
    '',
    `| T \\ λ | ${grid.lambdas.map((l) => `λ = ${l}`).join(' | ')} |`,
    `|---|${grid.lambdas.map(() => '---').join('|')}|`,
    ...grid.temperatures.map((T, i) => `| T = ${T} | ${grid.lambdas.map((_, j) => pct(mean[i][j], std[i][j])).join(' | ')} |`),
    '',
    '![heat map](heatmap.svg)',
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'sweep.md'), markdown);
  return { summary, markdown };
}
