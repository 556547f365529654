// Two runs side by side, paired by seed: for every method row both runs have (same method and model), the
// per-seed differences B − A of test accuracy at the best validation epoch and after the last epoch, with a
// paired t-test and a sign test (dgkd/stats.ts). For what one setting changes when everything else is equal —
// e.g. the view bank (scripts/cifar10-bank-check.sh): runs with the same seeds train the same initialisations.
//
//   npx tsx scripts/compare-runs.ts RUN_A RUN_B        (run folders, or their summary.json files)
// Exit 2 when a run's summary cannot be read or the runs share no row.

import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pairedTTest, signTest } from '../dgkd/stats.ts';

interface SeedRow { method: string; arch: string; seed: number; shared: boolean; best: number; final: number }

function fail(message: string): never {
  console.error(`compare-runs: ${message}`);
  process.exit(2);
}

function readRun(arg: string | undefined, which: string): { name: string; rows: SeedRow[] } {
  if (!arg) fail('usage: npx tsx scripts/compare-runs.ts RUN_A RUN_B');
  const path = existsSync(arg) && statSync(arg).isDirectory() ? join(arg, 'summary.json') : arg;
  let summary: { name?: string; perSeed?: SeedRow[] };
  try {
    summary = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    fail(`${which} ${path}: expected a run's summary.json (${(e as Error).message.split('\n')[0]})`);
  }
  if (!Array.isArray(summary.perSeed)) fail(`${which} ${path}: no perSeed rows (a summary.json written by dgkd/train.ts?)`);
  return { name: summary.name ?? arg, rows: summary.perSeed.filter((r) => !r.shared) };
}

const a = readRun(process.argv[2], 'RUN_A');
const b = readRun(process.argv[3], 'RUN_B');
const key = (r: SeedRow) => `${r.method} ${r.arch}`;
const rows = [...new Set(a.rows.map(key))].filter((k) => b.rows.some((r) => key(r) === k));
if (!rows.length) fail(`${a.name} and ${b.name} have no method row in common`);

const pts = (x: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x * 100).toFixed(2)}`;
console.log(`${b.name} − ${a.name}, paired by seed (test accuracy, points)\n`);
console.log('| Row | measure | seeds | A | B | Δ per seed | mean Δ | t-test p | wins–losses | sign-test p |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const k of rows) {
  for (const measure of ['best', 'final'] as const) {
    const pairs = a.rows.filter((r) => key(r) === k).flatMap((ra) => {
      const rb = b.rows.find((r) => key(r) === k && r.seed === ra.seed);
      return rb ? [[ra[measure], rb[measure]]] : [];
    });
    if (!pairs.length) continue;
    const diffs = pairs.map(([x, y]) => y - x);
    const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
    const t = pairedTTest(diffs.map((d) => d * 100));
    const s = signTest(diffs);
    console.log(
      `| ${k} | ${measure} | ${pairs.length} | ${(mean(pairs.map((p) => p[0])) * 100).toFixed(2)} | ${(mean(pairs.map((p) => p[1])) * 100).toFixed(2)} | ` +
        `${diffs.map(pts).join(', ')} | ${pts(mean(diffs))} | ${Number.isNaN(t.p) ? '–' : t.p.toFixed(3)} | ${s.wins}–${s.losses} | ${s.p.toFixed(3)} |`,
    );
  }
}
