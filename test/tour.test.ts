// The engine tour's first example runs (docs/tour/first-steps.ts), its loss falls, and what the tour says about
// it is what the engine does: the launches per phase, and tidy() freeing every tensor a step makes except the
// parameters' gradients (so a step leaks nothing). The tour's code block is that file's code.
import { expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { liveTensorCount } from '../engine/index.ts';
import { setFamilies } from '../engine/kernels/ladder/family.ts';
import { firstSteps } from '../docs/tour/first-steps.ts';
import { gpuReady } from './gpu.ts';

const root = resolve(import.meta.dirname, '..');

it('the tour shows the file’s code', () => {
  const file = readFileSync(resolve(root, 'docs/tour/first-steps.ts'), 'utf8');
  const region = file.slice(file.indexOf('// tour: begin\n') + 15, file.indexOf('  // tour: end'));
  const code = region.split('\n').map((l) => l.slice(2)).join('\n').trimEnd();
  const tour = readFileSync(resolve(root, 'docs/engine-tour.md'), 'utf8');
  expect(tour).toContain('```ts\n' + code + '\n```');
});

it('trains: the loss falls, with the launches the tour counts, and a step leaks no tensor', async () => {
  await gpuReady;
  const before = liveTensorCount();
  const short = await firstSteps(3, false);
  const afterShort = liveTensorCount();
  const long = await firstSteps(20, false);
  const afterLong = liveTensorCount();
  expect(long.losses[19]).toBeLessThan(long.losses[0] / 4);
  long.losses.slice(1).forEach((l, i) => expect(l).toBeLessThan(long.losses[i] + 1e-6)); // falls every step here
  expect(long.launches).toEqual({ forward: 11, backward: 10, update: 4 });
  expect(short.launches).toEqual(long.launches);
  // What stays after a run is the same however many steps it took: 4 parameters, their 4 velocities and 4
  // gradients, and the inputs x and y.
  expect(afterShort - before).toBe(14);
  expect(afterLong - afterShort).toBe(14);
});

it('the ladder’s first rung runs the tour too: the same losses, the network in 5 launches instead of 9 and the backward in 8 instead of 10 (nothing packed)', async () => {
  await gpuReady;
  const fast = await firstSteps(5, false);
  setFamilies({ matmul: 'naive' });
  try {
    const naive = await firstSteps(5, false);
    naive.losses.forEach((l, i) => expect(l).toBeCloseTo(fast.losses[i], 5));
    expect(naive.launches).toEqual({ forward: 7, backward: 8, update: 4 });   // forward: 5 + the loss's 2
  } finally {
    setFamilies({});
  }
});
