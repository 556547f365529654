// The trainer's layers (docs/trainer-tour.md), lowest first: a file imports only from its own layer or lower ones
// (type-only imports are erased and do not count). What each layer is for is in the tour.
import { expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');

/** Layer of a path relative to dgkd/, by the first rule that matches. */
const LAYERS: [string, RegExp][] = [
  ['foundations', /^(errors|bad_input|fs_errors|locks|stats|gpu_options)\.ts$/],
  ['data and models', /^(data|models)\//],
  ['methods', /^methods\//],
  ['training one model', /^fit\//],
  ['settings', /^settings\//],
  ['the experiment', /^experiment\//],
  ['the queue', /^queue\//],
  ['entry points', /^(main|train|worker)\.ts$/],
];

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string) => {
  const rel = relative(join(root, 'dgkd'), file);
  const i = LAYERS.findIndex(([, re]) => re.test(rel));
  if (i < 0) throw new Error(`dgkd/${rel} belongs to no layer: add it to LAYERS and to docs/trainer-tour.md`);
  return i;
};

function valueImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s)).filter((p) => p.startsWith(join(root, 'dgkd')));
}

it('every file of dgkd/ has a layer, and imports only from its layer or below', () => {
  const upward: string[] = [];
  for (const f of files(join(root, 'dgkd'))) {
    const own = layerOf(f);
    for (const d of valueImports(f)) {
      const theirs = layerOf(d);
      if (theirs > own) upward.push(`${relative(root, f)} (${LAYERS[own][0]}) → ${relative(root, d)} (${LAYERS[theirs][0]})`);
    }
  }
  expect(upward).toEqual([]);
});
