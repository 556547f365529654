// --help for the run command and each subcommand: exit 0 with its own usage text.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], { cwd: root, encoding: 'utf8' });

it.each([
  [['--help'], /sweep --method kd\|dgkd --temperature/],
  [['models', '--help'], /models \[--classes N\] \[--json\]\n  Lists every architecture/],
  [['eval', '-h'], /eval --checkpoint FILE [^\n]*\n.*--seed N\]\n  Top-1/],
])('%s prints its usage', (args, pattern) => {
  const r = run(args);
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toMatch(pattern);
});
