// The README's CLI reference is the option table's help text (regenerate with `npx tsx scripts/readme-help.ts`),
// and its results tables are the committed runs' own: each finished run's table from its report.md, verbatim.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BEGIN, END, helpBlock } from '../scripts/readme-help.ts';

const root = resolve(import.meta.dirname, '..');
const readme = readFileSync(resolve(root, 'README.md'), 'utf8');

it('README.md shows the current --help', () => {
  const block = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
  expect(block).toBe(helpBlock());
});

/** Finished runs whose results table the README shows (a run still in progress is quoted in words instead). */
const RUNS_IN_README = ['results/cifar10-gap/comparison', 'results/cifar10-cpu/comparison'];

for (const run of RUNS_IN_README) {
  it(`README.md shows ${run}'s results table as its report has it`, () => {
    const summary = JSON.parse(readFileSync(resolve(root, run, 'summary.json'), 'utf8'));
    expect(summary.complete).toBe(true);
    const report = readFileSync(resolve(root, run, 'report.md'), 'utf8');
    const start = report.indexOf('| Method');
    const table = report.slice(start, report.indexOf('\n\n', start));
    expect(table.split('\n').length).toBeGreaterThan(3);
    expect(readme).toContain(table);
  });
}
