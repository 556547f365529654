// Unrolls a kernel's constant-trip-count loops in the WGSL text, for drivers that do not unroll them themselves.
//
// The register-blocked kernels keep their accumulators in small arrays indexed by loop counters
// (`acc[i][j]` inside `for (var i = 0u; i < TM; i++)`). Mesa's compiler (lavapipe) unrolls those loops, after
// which every index is a constant and the arrays live in registers. SwiftShader does not: the arrays stay in
// memory and every multiply-add becomes a load and a store, which made our kernels 4–6× slower there than the
// same kernel unrolled by hand (matmul 512³: 0.41 vs 2.54 GFLOP/s; on lavapipe the two measured alike).
//
// So for such drivers the runtime hands Dawn a copy of the kernel in which every loop of the form
//     for (var i = 0u; i < BOUND; i++) { BODY }
// whose BOUND is built from integer literals and the kernel's override constants (with the values of this
// pipeline) is replaced by BOUND copies of `{ let i = <k>u; BODY }`. Loops with a runtime bound, another step, or
// a `break`/`continue` of their own are left alone. The result is still the same kernel with the same override
// declarations; only its loops are spelled out.

/** Loops longer than this stay loops (the kernels' block loops are at most 32). */
const MAX_TRIP = 64;

const LOOP = /for\s*\(\s*var\s+([A-Za-z_]\w*)\s*=\s*0(u?)\s*;\s*\1\s*<\s*([^;]+?)\s*;\s*\1\s*\+\+\s*\)\s*\{/g;

/**
 * The value of each `override NAME: type = value;` in the source: the pipeline's constant where it sets one, else
 * the default, evaluated with the values before it (so `XL = STRIDE * (TM - 1u) + KW` follows the constants).
 */
export function overrideValues(code: string, constants: Record<string, number>): Record<string, number> {
  const values: Record<string, number> = {};
  for (const m of code.matchAll(/override\s+([A-Za-z_]\w*)\s*:\s*\w+\s*=\s*([^;]+);/g)) {
    const v = m[1] in constants ? constants[m[1]] : evalConstExpr(m[2], values);
    if (v !== null) values[m[1]] = v;
  }
  return { ...values, ...constants };
}

/**
 * Evaluates an integer expression of literals (`4u`, `3`), known names, + − * / % and parentheses, with u32/i32
 * semantics for division (truncating). Returns null for anything else.
 */
export function evalConstExpr(expr: string, names: Record<string, number>): number | null {
  const tokens = expr.match(/\d+[ui]?|[A-Za-z_]\w*|[-+*/%()]|\S/g) ?? [];
  let pos = 0;
  const peek = () => tokens[pos];
  function primary(): number | null {
    const t = tokens[pos++];
    if (t === undefined) return null;
    if (t === '(') {
      const v = sum();
      return tokens[pos++] === ')' ? v : null;
    }
    if (/^\d+[ui]?$/.test(t)) return parseInt(t, 10);
    if (/^[A-Za-z_]\w*$/.test(t) && t in names) return names[t];
    return null;
  }
  function product(): number | null {
    let v = primary();
    while (v !== null && (peek() === '*' || peek() === '/' || peek() === '%')) {
      const op = tokens[pos++];
      const r = primary();
      if (r === null || (op !== '*' && r === 0)) return null;
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  }
  function sum(): number | null {
    let v = product();
    while (v !== null && (peek() === '+' || peek() === '-')) {
      const op = tokens[pos++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  }
  const v = sum();
  return v !== null && pos === tokens.length && Number.isInteger(v) ? v : null;
}

/** Index of the `}` that closes the `{` at `open`. */
function matchingBrace(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    if (code[i] === '{') depth++;
    else if (code[i] === '}' && --depth === 0) return i;
  }
  throw new SyntaxError('unbalanced braces in WGSL source');
}

/** Whether BODY has a break/continue that belongs to this loop (not to a loop nested in it). */
function exitsLoop(body: string): boolean {
  const nested = /\b(for|loop|while)\b[^{]*\{/g;
  let stripped = body;
  for (let m = nested.exec(stripped); m; m = nested.exec(stripped)) {
    const open = m.index + m[0].length - 1;
    const close = matchingBrace(stripped, open);
    stripped = stripped.slice(0, m.index) + stripped.slice(close + 1);
    nested.lastIndex = m.index;
  }
  return /\b(break|continue)\b/.test(stripped);
}

/** Unrolls the constant loops of `code` (comments are dropped first, so that braces in them do not count). */
export function unrollLoops(code: string, constants: Record<string, number>): string {
  const names = overrideValues(code, constants);
  return unrollIn(code.replace(/\/\/[^\n]*/g, ''), names);
}

function unrollIn(code: string, names: Record<string, number>): string {
  const loop = new RegExp(LOOP); // own lastIndex: this function recurses into loop bodies
  let out = '';
  let from = 0;
  for (;;) {
    loop.lastIndex = from;
    const m = loop.exec(code);
    if (!m) break;
    const open = m.index + m[0].length - 1;
    const close = matchingBrace(code, open);
    const body = code.slice(open + 1, close);
    const trip = evalConstExpr(m[3], names);
    if (trip === null || trip < 0 || trip > MAX_TRIP || exitsLoop(body)) {
      // Keep this loop, but still unroll the loops inside it.
      out += code.slice(from, open + 1) + unrollIn(body, names) + '}';
    } else {
      const inner = unrollIn(body, names);
      out += code.slice(from, m.index);
      for (let k = 0; k < trip; k++) out += `{ let ${m[1]} = ${k}${m[2]};${inner}}\n`;
    }
    from = close + 1;
  }
  return out + code.slice(from);
}
