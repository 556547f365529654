// The README's CLI reference is the option table's help text (regenerate with `npx tsx scripts/readme-help.ts`).
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { BEGIN, END, helpBlock } from '../scripts/readme-help.ts';

it('README.md shows the current --help', () => {
  const readme = readFileSync(resolve(import.meta.dirname, '..', 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END) + END.length);
  expect(block).toBe(helpBlock());
});
