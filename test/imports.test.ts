// The engine's module graph: no import circle (type-only imports are erased and do not count), and nothing in
// engine/ imports from dgkd/ (the engine stands alone; the trainer is built on it) or reads its settings.
import { expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const engine = join(root, 'engine');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** Value imports and re-exports of a file, resolved to paths (`import type` and `export type` left out). */
function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/^(?:import|export)\s+(?!type\b)[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s));
}

const graph = new Map(files(engine).map((f) => [f, imports(f)]));

it('engine/ has no import circle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (f: string, path: string[]) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(root, p)).join(' → '));
      return;
    }
    state.set(f, 'open');
    for (const g of graph.get(f) ?? []) visit(g, [...path, f]);
    state.set(f, 'done');
  };
  for (const f of graph.keys()) visit(f, []);
  expect(cycles).toEqual([]);
});

it('engine/ never imports from dgkd/', () => {
  const bad = [...graph].flatMap(([f, deps]) => deps.filter((d) => relative(root, d).startsWith('dgkd')).map((d) => `${relative(root, f)} → ${relative(root, d)}`));
  expect(bad).toEqual([]);
});

it('engine/ reads no environment variable of the application and names it nowhere in its code', () => {
  const code = (f: string) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const bad = [...graph.keys()].filter((f) => /dgkd/i.test(code(f))).map((f) => relative(root, f));
  expect(bad).toEqual([]);
});

it('no engine code decides by a driver\'s name: kernels ask named capabilities (only the Node edge names the driver files it loads)', () => {
  const code = (f: string) => readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/[^\n]*/g, '');
  const drivers = /swiftshader|lavapipe|llvmpipe|mesa|nvidia|intel|radeon|adreno|apple/i;
  const bad = [...graph.keys()].filter((f) => !relative(root, f).startsWith('engine/node/') && drivers.test(code(f))).map((f) => relative(root, f));
  expect(bad).toEqual([]);
});
