// Peak resident memory of the default pipeline (`tsx dgkd/train.ts` with no arguments), run in a child process
// with its own output folder so that no stage is reused. The pipeline records the figure itself
// (process.resourceUsage().maxRSS) in summary.json; this prints it with the wall time.
//
//   npx tsx bench/memory.ts [--json]      (takes as long as the quick pipeline: about 8 minutes on lavapipe)

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const out = mkdtempSync(join(tmpdir(), 'dgkd-mem-'));
const t0 = Date.now();
const r = spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', '--preset', 'quick', '--out', out, '--quiet'], {
  cwd: root,
  stdio: ['ignore', 'ignore', 'inherit'],
});
if (r.status !== 0) {
  console.error(`the quick pipeline failed (exit ${r.status})`);
  process.exit(1);
}
const summary = JSON.parse(readFileSync(join(out, 'quick', 'summary.json'), 'utf8'));
const row = { op: 'pipeline_memory', peakRssMB: summary.peakRssMB, seconds: Math.round((Date.now() - t0) / 1000), adapter: summary.adapter };
if (process.argv.includes('--json')) console.log(JSON.stringify(row));
else console.log(`default pipeline: peak resident memory ${row.peakRssMB} MiB, ${row.seconds} s (${row.adapter})`);
rmSync(out, { recursive: true, force: true });
