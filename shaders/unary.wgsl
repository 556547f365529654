// out = OP(a) on contiguous data in vec4s (pooled buffers are padded to 16 bytes, so the
// vec4 view always fits; the padding's values are computed and never read). ALPHA is a per-dispatch scalar.
// OP: which op, one `case` each, named in its comment as in UNARY_OPS (engine/kernels/elementwise.ts; the contracts
// test checks that the two agree). An unknown code gives NaN rather than some other op (a run-time NaN: a constant one is a compile error).
override OP: u32 = 0u;

struct Params { n4: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

// Launched by vec4_each.wgsl, compiled in front of this file.
fn vectors() -> u32 { return p.n4; }
fn store(i: u32) { out[i] = apply(i); }

fn apply(i: u32) -> vec4<f32> {
  let x = a[i];
  var v: vec4<f32>;
  switch OP {
    case 0u: { v = max(x, vec4<f32>(0.0)); }                     // relu
    case 1u: { v = exp(x); }                                     // exp
    case 2u: { v = log(x); }                                     // log
    case 3u: { v = sqrt(x); }                                    // sqrt
    case 4u: { v = x * p.alpha; }                                // scale
    case 5u: { v = x * x; }                                      // square
    case 6u: { v = x + p.alpha; }                                // addScalar
    case 7u: { v = clamp(x, vec4<f32>(0.0), vec4<f32>(6.0)); }   // relu6
    default: { v = vec4<f32>(bitcast<f32>(0x7fc00000u | (p.n4 & 0u))); }
  }
  return v;
}
