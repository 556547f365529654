// --help for the run command and each subcommand: exit 0 with its own usage text.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8' });

it.each([
  [['--help'], /sweep --method kd\|takd\|dgkd --temperature[^]*sweep --method dkd --dkd-alpha/],
  [['models', '--help'], /models \[--classes N\] \[--json\]\n  Every architecture.*\n[^]*--classes N +classes of the output layer \(default 10\)/],
  [['eval', '-h'], /eval --checkpoint FILE \[options\]\n  Top-1[^]*--val-split F\|N[^]*--batch-size N +images per evaluation step \(default 256\)/],
  [['export', '--help'], /export --checkpoint FILE --out FILE\n[^]*strict=True/],
])('%s prints its usage', (args, pattern) => {
  const r = run(args);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(pattern);
});
