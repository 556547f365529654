// The WGSL loop unroller (engine/unroll.ts): which loops it spells out, and that the text stays the same program.
import { describe, expect, it } from 'vitest';
import { evalConstExpr, overrideValues, unrollLoops } from '../engine/unroll.ts';

const squash = (s: string) => s.replace(/\s+/g, ' ').trim();

describe('evalConstExpr', () => {
  it('evaluates literals, names and integer arithmetic with truncating division', () => {
    expect(evalConstExpr('TN / 4u', { TN: 16 })).toBe(4);
    expect(evalConstExpr('TM + KW - 1u', { TM: 16, KW: 3 })).toBe(18);
    expect(evalConstExpr('(A + 1) * 3 % 5', { A: 2 })).toBe(4);
    expect(evalConstExpr('7u / 2u', {})).toBe(3);
  });
  it('gives null for unknown names, runtime values, division by zero and trailing junk', () => {
    expect(evalConstExpr('p.K', { K: 3 })).toBeNull();
    expect(evalConstExpr('TM', {})).toBeNull();
    expect(evalConstExpr('4u / 0u', {})).toBeNull();
    expect(evalConstExpr('4u 4u', {})).toBeNull();
    expect(evalConstExpr('min(TM, 4u)', { TM: 8 })).toBeNull();
  });
});

describe('overrideValues', () => {
  it('takes the declared defaults and lets the pipeline constants win, in the defaults built from them too', () => {
    // As in WGSL: TN's default is computed from the pipeline's TM (this once used TM's default: 16).
    const code = 'override TM: u32 = 8u;\noverride TN: u32 = 2u * TM;\noverride WG: u32 = 16u;';
    expect(overrideValues(code, { TM: 4 })).toEqual({ TM: 4, TN: 8, WG: 16 });
  });
  it('evaluates a default built from other overrides with the pipeline constants', () => {
    const code = 'override S: u32 = 1u;\noverride TM: u32 = 8u;\noverride KW: u32 = 3u;\noverride XL: u32 = S * (TM - 1u) + KW;';
    expect(overrideValues(code, { S: 2, KW: 1 })).toEqual({ S: 2, TM: 8, KW: 1, XL: 15 });
    expect(overrideValues(code, { S: 2, KW: 1, XL: 9 }).XL).toBe(9);
  });
});

describe('unrollLoops', () => {
  it('spells out constant loops, nested ones too, with the counter as a let of the same type', () => {
    const code = 'override TM: u32 = 2u;\nfn f() { for (var i = 0u; i < TM; i++) { for (var j = 0; j < 2; j++) { g(i, j); } } }';
    const out = squash(unrollLoops(code, {}));
    expect(out).toBe(
      'override TM: u32 = 2u; fn f() { { let i = 0u; { let j = 0; g(i, j); } { let j = 1; g(i, j); } } ' +
        '{ let i = 1u; { let j = 0; g(i, j); } { let j = 1; g(i, j); } } }',
    );
    expect(out).not.toContain('for');
    expect(squash(unrollLoops(code, { TM: 3 }))).toContain('let i = 2u;');
  });
  it('keeps loops with a runtime bound, another step or their own break, but unrolls loops inside them', () => {
    const code = [
      'override TN: u32 = 2u;',
      'fn f() {',
      '  for (var k = 0u; k < p.K; k++) { for (var j = 0u; j < TN; j++) { a(k, j); } }',
      '  for (var s = 0u; s < 4u; s += 2u) { b(s); }',
      '  for (var i = 0u; i < 4u; i++) { if (c(i)) { break; } }',
      '  for (var i = 0u; i < 2u; i++) { for (var t = 0u; t < p.T; t++) { if (d(t)) { continue; } } }',
      '}',
    ].join('\n');
    const out = squash(unrollLoops(code, {}));
    expect(out).toContain('for (var k = 0u; k < p.K; k++) { { let j = 0u; a(k, j); } { let j = 1u; a(k, j); } }');
    expect(out).toContain('for (var s = 0u; s < 4u; s += 2u) { b(s); }');
    expect(out).toContain('for (var i = 0u; i < 4u; i++) { if (c(i)) { break; } }');
    // The break/continue of a nested loop does not stop the outer loop from being unrolled.
    expect(out).toContain('{ let i = 1u; for (var t = 0u; t < p.T; t++) { if (d(t)) { continue; } } }');
  });
  it('drops comments, so that a brace in a comment cannot unbalance the body', () => {
    const code = 'fn f() { for (var i = 0u; i < 2u; i++) { // a { in a comment\n h(i); } }';
    expect(squash(unrollLoops(code, {}))).toBe('fn f() { { let i = 0u; h(i); } { let i = 1u; h(i); } }');
  });
});
