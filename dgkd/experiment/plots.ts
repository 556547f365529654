// SVG figures, written by hand (no plotting dependency): learning curves with mean ± std bands across seeds,
// and a heat map for hyperparameter sweeps.

import type { EpochMetrics } from '../fit/trainer.ts';

/** One method's history on one seed. */
export interface Curve {
  method: string;
  seed: number;
  history: EpochMetrics[];
}

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];

export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Series {
  method: string;
  /** Per epoch (1-based): mean and std across the seeds that have a value there. */
  points: { epoch: number; mean: number; std: number }[];
}

function series(curves: Curve[], value: (h: EpochMetrics) => number | undefined): Series[] {
  const methods = [...new Set(curves.map((c) => c.method))];
  return methods.map((method) => {
    const byEpoch = new Map<number, number[]>();
    for (const c of curves.filter((c) => c.method === method)) {
      for (const h of c.history) {
        const v = value(h);
        if (v === undefined || !Number.isFinite(v)) continue;
        byEpoch.set(h.epoch, [...(byEpoch.get(h.epoch) ?? []), v]);
      }
    }
    const points = [...byEpoch.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([epoch, vs]) => {
        const mean = vs.reduce((a, b) => a + b, 0) / vs.length;
        const std = vs.length > 1 ? Math.sqrt(vs.reduce((a, b) => a + (b - mean) ** 2, 0) / (vs.length - 1)) : 0;
        return { epoch, mean, std };
      });
    return { method, points };
  });
}

/** One panel: axes, grid, a band and a line with markers per series. Returns SVG elements. */
function panel(all: Series[], box: { x: number; y: number; w: number; h: number }, yLabel: string, format: (v: number) => string, maxEpoch: number): string[] {
  const values = all.flatMap((s) => s.points.flatMap((p) => [p.mean - p.std, p.mean + p.std]));
  let lo = values.length ? Math.min(...values) : 0;
  let hi = values.length ? Math.max(...values) : 1;
  if (hi - lo < 1e-9) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = (hi - lo) * 0.05;
  [lo, hi] = [lo - pad, hi + pad];
  const x = (e: number) => box.x + (box.w * (maxEpoch === 1 ? 0.5 : (e - 1) / (maxEpoch - 1)));
  const y = (v: number) => box.y + (box.h * (hi - v)) / (hi - lo);
  const out: string[] = [
    `<rect x="${box.x}" y="${box.y}" width="${box.w}" height="${box.h}" fill="none" stroke="#999"/>`,
    `<text x="${box.x + box.w / 2}" y="${box.y - 6}" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    `<text x="${box.x + box.w / 2}" y="${box.y + box.h + 32}" text-anchor="middle">epoch</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = lo + ((hi - lo) * i) / 4;
    out.push(`<line x1="${box.x}" y1="${y(v).toFixed(1)}" x2="${box.x + box.w}" y2="${y(v).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${box.x - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${format(v)}</text>`);
  }
  const ticks = Math.min(maxEpoch, 8);
  for (let i = 0; i < ticks; i++) {
    const e = ticks === 1 ? 1 : 1 + Math.round(((maxEpoch - 1) * i) / (ticks - 1));
    out.push(`<text x="${x(e).toFixed(1)}" y="${box.y + box.h + 16}" text-anchor="middle">${e}</text>`);
  }
  all.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length];
    const pts = s.points;
    if (!pts.length) return;
    if (pts.some((p) => p.std > 0)) {
      const upper = pts.map((p) => `${x(p.epoch).toFixed(1)},${y(p.mean + p.std).toFixed(1)}`);
      const lower = pts.map((p) => `${x(p.epoch).toFixed(1)},${y(p.mean - p.std).toFixed(1)}`).reverse();
      out.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${colour}" fill-opacity="0.15" stroke="none"/>`);
    }
    out.push(`<polyline points="${pts.map((p) => `${x(p.epoch).toFixed(1)},${y(p.mean).toFixed(1)}`).join(' ')}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const p of pts) out.push(`<circle cx="${x(p.epoch).toFixed(1)}" cy="${y(p.mean).toFixed(1)}" r="3" fill="${colour}"/>`);
  });
  return out;
}

/** Test accuracy (left) and training loss (right) per epoch, one line per method, mean ± std band over seeds. */
export function curvesSvg(curves: Curve[], title: string): string {
  const acc = series(curves, (h) => h.testAcc);
  const loss = series(curves, (h) => h.trainLoss);
  const maxEpoch = Math.max(1, ...curves.flatMap((c) => c.history.map((h) => h.epoch)));
  const methods = acc.map((s) => s.method);
  const seeds = new Set(curves.map((c) => c.seed)).size;
  // The legend sits under the panels in as many columns as fit; its rows set the height.
  const W = 900;
  const colWidth = Math.max(120, ...methods.map((m) => 26 + m.length * 7));
  const cols = Math.max(1, Math.floor((W - 80) / colWidth));
  const legendRows = Math.ceil(methods.length / cols);
  const top = 48;
  const ph = 280;
  const H = top + ph + 56 + legendRows * 20 + 12;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
    `<text x="${W / 2}" y="38" text-anchor="middle" fill="#555">${seeds > 1 ? `mean ± std over ${seeds} seeds (band)` : 'one seed'}</text>`,
    ...panel(acc, { x: 70, y: top + 4, w: 340, h: ph }, 'test accuracy (%)', (v) => (v * 100).toFixed(1), maxEpoch),
    ...panel(loss, { x: 500, y: top + 4, w: 340, h: ph }, 'training loss', (v) => v.toPrecision(3), maxEpoch),
  ];
  const ly = top + ph + 56;
  methods.forEach((m, i) => {
    const cx = 40 + (i % cols) * colWidth;
    const cy = ly + Math.floor(i / cols) * 20;
    const colour = COLOURS[i % COLOURS.length];
    parts.push(`<rect x="${cx}" y="${cy}" width="14" height="4" fill="${colour}"/><circle cx="${cx + 7}" cy="${cy + 2}" r="3" fill="${colour}"/>`);
    parts.push(`<text x="${cx + 20}" y="${cy + 6}">${escapeXml(m)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

/** A heat map of `values[row][col]` (accuracies, NaN = missing) with mean ± std in each cell. */
export function heatmapSvg(opts: {
  title: string;
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  mean: number[][];
  std: number[][];
}): string {
  const cw = 110, ch = 44, left = 110, top = 70;
  const W = left + cw * opts.cols.length + 40;
  const H = top + ch * opts.rows.length + 50;
  const vals = opts.mean.flat().filter(Number.isFinite);
  const lo = vals.length ? Math.min(...vals) : 0;
  const hi = vals.length ? Math.max(...vals) : 1;
  const shade = (v: number) => {
    const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    // white → dark blue
    const c = (a: number, b: number) => Math.round(a + (b - a) * t);
    return `rgb(${c(247, 8)},${c(251, 69)},${c(255, 148)})`;
  };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(opts.title)}</text>`,
    `<text x="${left + (cw * opts.cols.length) / 2}" y="${top - 28}" text-anchor="middle">${escapeXml(opts.colLabel)}</text>`,
    `<text x="24" y="${top + (ch * opts.rows.length) / 2}" text-anchor="middle" transform="rotate(-90 24 ${top + (ch * opts.rows.length) / 2})">${escapeXml(opts.rowLabel)}</text>`,
  ];
  opts.cols.forEach((c, j) => parts.push(`<text x="${left + cw * j + cw / 2}" y="${top - 8}" text-anchor="middle">${escapeXml(c)}</text>`));
  opts.rows.forEach((r, i) => {
    parts.push(`<text x="${left - 8}" y="${top + ch * i + ch / 2 + 4}" text-anchor="end">${escapeXml(r)}</text>`);
    opts.cols.forEach((_, j) => {
      const v = opts.mean[i][j];
      const x = left + cw * j, y = top + ch * i;
      const fill = Number.isFinite(v) ? shade(v) : '#ddd';
      const t = hi > lo ? (v - lo) / (hi - lo) : 0.5;
      const ink = t > 0.55 ? 'white' : 'black';
      parts.push(`<rect x="${x}" y="${y}" width="${cw}" height="${ch}" fill="${fill}" stroke="white"/>`);
      const label = Number.isFinite(v) ? `${(v * 100).toFixed(2)}${opts.std[i][j] > 0 ? ` ± ${(opts.std[i][j] * 100).toFixed(2)}` : ''}` : '—';
      parts.push(`<text x="${x + cw / 2}" y="${y + ch / 2 + 4}" text-anchor="middle" fill="${ink}">${label}</text>`);
    });
  });
  parts.push(`<text x="${W / 2}" y="${H - 14}" text-anchor="middle" fill="#555">student test accuracy (%) at the best validation epoch, mean ± std over seeds</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
