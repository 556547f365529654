// Run outputs: summary.json (machine-readable), report.md (the paper-style table, settings, adapter) and
// curves.svg (test accuracy per epoch of every stage). All written atomically.

import { join } from 'node:path';
import { writeFileAtomic } from './train/atomic.ts';
import type { EpochMetrics } from './train/trainer.ts';

export interface StageSummary {
  name: string;
  role: string;
  arch: string;
  method: string;
  trainers: string[];
  params: number;
  bestAcc: number;
  finalAcc: number;
  epochs: number;
  seconds: number;
  reused: boolean;
  seed: number;
  key: string;
}

export interface TableRow {
  method: string;
  arch: string;
  bestAcc: number;
  bestStd: number;
  finalAcc: number;
  finalStd: number;
  seeds: number;
}

export interface Summary {
  name: string;
  dataset: string;
  adapter: string;
  seconds: number;
  /** Peak resident memory of the process so far (MiB). */
  peakRssMB: number;
  config: unknown;
  stages: StageSummary[];
  table: TableRow[];
}

const pct = (v: number) => (v * 100).toFixed(2);

export function formatTable(table: TableRow[]): string {
  const withStd = table.some((r) => r.seeds > 1);
  const cell = (m: number, s: number) => (withStd ? `${pct(m)} ± ${pct(s)}` : pct(m));
  const header = ['Method', 'Model', 'Top-1 best (%)', 'Top-1 final (%)'];
  const rows = table.map((r) => [r.method, r.arch, cell(r.bestAcc, r.bestStd), cell(r.finalAcc, r.finalStd)]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export function writeReports(dir: string, summary: Summary, curves: { name: string; history: EpochMetrics[] }[]): void {
  writeFileAtomic(join(dir, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  const stageLines = summary.stages.map(
    (s) =>
      `| ${s.name} | ${s.role} | ${s.arch} | ${s.method} | ${s.trainers.join(', ') || '—'} | ${s.params} | ${pct(s.bestAcc)} | ${pct(s.finalAcc)} | ${s.epochs} | ${s.reused ? 'reused' : s.seconds.toFixed(0) + ' s'} |`,
  );
  const md = [
    `# ${summary.name}`,
    '',
    `Dataset: ${summary.dataset}. Adapter: ${summary.adapter}. Wall time: ${summary.seconds.toFixed(0)} s. ` +
      `Peak resident memory: ${summary.peakRssMB} MiB.`,
    '',
    '## Results',
    '',
    formatTable(summary.table),
    '',
    '## Stages',
    '',
    '| Stage | Role | Model | Method | Trainers | Params | Best (%) | Final (%) | Epochs | Time |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...stageLines,
    '',
    '![test accuracy per epoch](curves.svg)',
    '',
    '## Settings',
    '',
    '```json',
    JSON.stringify(summary.config, null, 2),
    '```',
    '',
  ].join('\n');
  writeFileAtomic(join(dir, 'report.md'), md);
  writeFileAtomic(join(dir, 'curves.svg'), curvesSvg(curves));
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function curvesSvg(curves: { name: string; history: EpochMetrics[] }[]): string {
  const W = 720, H = 420, L = 56, R = 220, T = 20, Bm = 44;
  const maxEpoch = Math.max(1, ...curves.map((c) => c.history.length));
  const accs = curves.flatMap((c) => c.history.map((h) => h.testAcc));
  const lo = Math.max(0, Math.floor((Math.min(1, ...accs) * 10)) / 10);
  const hi = Math.min(1, Math.ceil(Math.max(0, ...accs) * 10) / 10 || 1);
  const x = (e: number) => L + ((W - L - R) * (e - 1)) / Math.max(maxEpoch - 1, 1);
  const y = (a: number) => T + ((H - T - Bm) * (hi - a)) / Math.max(hi - lo, 1e-9);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${L}" y1="${H - Bm}" x2="${W - R}" y2="${H - Bm}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - Bm}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">epoch</text>`,
    `<text x="14" y="${(T + H - Bm) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - Bm) / 2})">test accuracy (%)</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const a = lo + ((hi - lo) * i) / 5;
    parts.push(`<line x1="${L - 4}" y1="${y(a)}" x2="${W - R}" y2="${y(a)}" stroke="#ddd"/>`);
    parts.push(`<text x="${L - 6}" y="${y(a) + 4}" text-anchor="end">${(a * 100).toFixed(0)}</text>`);
  }
  const ticks = Math.min(maxEpoch, 10);
  for (let i = 0; i < ticks; i++) {
    const e = 1 + Math.round(((maxEpoch - 1) * i) / Math.max(ticks - 1, 1));
    parts.push(`<text x="${x(e)}" y="${H - Bm + 16}" text-anchor="middle">${e}</text>`);
  }
  curves.forEach((c, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = c.history.map((h) => `${x(h.epoch).toFixed(1)},${y(h.testAcc).toFixed(1)}`).join(' ');
    if (pts) parts.push(`<polyline points="${pts}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    parts.push(`<rect x="${W - R + 12}" y="${T + i * 18}" width="12" height="12" fill="${colour}"/>`);
    parts.push(`<text x="${W - R + 30}" y="${T + i * 18 + 10}">${escapeXml(c.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
