// Every kernel's contract (engine/runtime/contract.ts), declared next to its launcher, against its WGSL: the
// `struct Params` fields by name, type and order, the buffer bindings by number and name, and the override
// constants — for every composition of its files (what it uses, each variant). A mismatch fails here, not in a
// training run. And every .wgsl file belongs to some contract.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import '../engine/index.ts';
import '../engine/kernels/index.ts';
import '../engine/runtime/subgroups.ts';
import { declaredKernels, packParams, type KernelContract } from '../engine/runtime/index.ts';
import { BINARY_OPS, UNARY_OPS } from '../engine/kernels/elementwise.ts';

const shaders = resolve(import.meta.dirname, '..', 'shaders');
const source = (files: string[]) => files.map((f) => readFileSync(join(shaders, f), 'utf8')).join('\n').replace(/\/\/[^\n]*/g, '');

function parse(wgsl: string) {
  const struct = /struct\s+Params\s*\{([^}]*)\}/.exec(wgsl);
  const params = struct ? [...struct[1].matchAll(/(\w+)\s*:\s*(vec4<\w+>|\w+)/g)].map((m) => [m[1], m[2]]) : null;
  const bindings = [...wgsl.matchAll(/@binding\((\d+)\)\s*var(?:<[^>]*>)?\s+(\w+)/g)].map((m) => [Number(m[1]), m[2]] as [number, string]);
  const overrides = [...wgsl.matchAll(/override\s+(\w+)\s*(?::\s*[\w<>]+)?\s*(=)?/g)].map((m) => ({ name: m[1], hasDefault: !!m[2] }));
  return { params, bindings, overrides };
}

function compositions(k: KernelContract): [string, string[]][] {
  const uses = [...(k.uses ?? [])];
  const variants = Object.entries(k.variants ?? {});
  if (!variants.length) return [['', [...uses, k.shader]]];
  return variants.map(([name, files]) => [name, [...uses, ...files, k.shader]]);
}

describe('kernel contracts match their WGSL', () => {
  const kernels = declaredKernels();
  it('there are contracts for the whole engine', () => expect(kernels.length).toBeGreaterThanOrEqual(30));
  for (const k of kernels) {
    for (const [variant, files] of compositions(k)) {
      it(`${files.join('+')}${variant ? ` (${variant})` : ''}`, () => {
        const w = parse(source(files));
        expect(w.params, 'struct Params fields').toEqual(k.params ? Object.entries(k.params) : null);
        const first = k.params ? 1 : 0;
        const expected: [number, string][] = k.bindings.map((name, i) => [first + i, name]);
        if (k.params) expected.unshift([0, 'p']);
        expect([...w.bindings].sort((a, b) => a[0] - b[0]), 'bindings').toEqual(expected);
        const declared = new Set(w.overrides.map((o) => o.name));
        for (const c of k.constants ?? []) expect(declared.has(c), `override ${c} declared in ${files.join('+')}`).toBe(true);
        const required = w.overrides.filter((o) => !o.hasDefault).map((o) => o.name);
        for (const r of required) expect(k.constants ?? [], `override ${r} has no default: the contract must set it`).toContain(r);
      });
    }
  }
  it('every .wgsl file belongs to a contract', () => {
    const used = new Set(kernels.flatMap((k) => [k.shader, ...(k.uses ?? []), ...Object.values(k.variants ?? {}).flat()]));
    const files = readdirSync(shaders).filter((f) => f.endsWith('.wgsl'));
    expect(files.filter((f) => !used.has(f))).toEqual([]);
  });
});

describe('OP codes: the launcher and the WGSL agree', () => {
  /** `case Nu: { … }  // name` lines of a shader's `switch OP`, as name → code. */
  const cases = (file: string) =>
    Object.fromEntries([...readFileSync(join(shaders, file), 'utf8').matchAll(/case (\d+)u:.*\/\/\s*(\w+)\s*$/gm)].map((m) => [m[2], Number(m[1])]));
  it('binary.wgsl: every code of BINARY_OPS but addRelu (same-shape only)', () => {
    const { addRelu: _, ...broadcasting } = BINARY_OPS;
    expect(cases('binary.wgsl')).toEqual(broadcasting);
  });
  it('binary_same.wgsl: every code of BINARY_OPS', () => expect(cases('binary_same.wgsl')).toEqual(BINARY_OPS));
  it('unary.wgsl: every code of UNARY_OPS', () => expect(cases('unary.wgsl')).toEqual(UNARY_OPS));
});

describe('parameter packing', () => {
  it('lays fields out as WGSL does: scalars on 4 bytes, vec4s on 16, the whole on 16', () => {
    const bytes = packParams({ n: 'u32', scale: 'f32', s: 'vec4<u32>', k: 'i32' }, { n: 7, scale: 0.5, s: [1, 2, 3, 4], k: -3 }, 'test');
    const v = new DataView(bytes);
    expect(bytes.byteLength).toBe(48);
    expect([v.getUint32(0, true), v.getFloat32(4, true)]).toEqual([7, 0.5]);
    expect([16, 20, 24, 28].map((o) => v.getUint32(o, true))).toEqual([1, 2, 3, 4]);
    expect(v.getInt32(32, true)).toBe(-3);
  });
  it('a missing or unknown parameter is named', () => {
    expect(() => packParams({ n: 'u32' }, {}, 'k')).toThrow(/k: parameter 'n' \(u32\) is undefined/);
    expect(() => packParams({ n: 'u32' }, { n: 1, m: 2 }, 'k')).toThrow(/k: no parameter 'm' in its contract/);
  });
});
