// out = OP(a, b) for operands of the same shape, in vec4s (see unary.wgsl for why the
// vec4 view is safe). Broadcasting operands go through binary.wgsl instead.
// OP: one `case` each, named as in BINARY_OPS (engine/kernels/elementwise.ts; checked by the contracts test).
// The ReLU backwards take a = the gradient, b = the ReLU's input (its output is > 0 at the same places).
override OP: u32 = 0u;

struct Params { n4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

// Launched by vec4_each.wgsl, compiled in front of this file.
fn vectors() -> u32 { return p.n4; }
fn store(i: u32) { out[i] = apply(i); }

fn apply(i: u32) -> vec4<f32> {
  let x = a[i];
  let y = b[i];
  var v: vec4<f32>;
  switch OP {
    case 0u: { v = x + y; }                                                                     // add
    case 1u: { v = x - y; }                                                                     // sub
    case 2u: { v = x * y; }                                                                     // mul
    case 3u: { v = x / y; }                                                                     // div
    case 4u: { v = select(vec4<f32>(0.0), x, y > vec4<f32>(0.0)); }                             // reluBackward
    case 5u: { v = max(x + y, vec4<f32>(0.0)); }                                                // addRelu
    case 6u: { v = select(vec4<f32>(0.0), x, (y > vec4<f32>(0.0)) & (y < vec4<f32>(6.0))); }    // relu6Backward
    default: { v = vec4<f32>(bitcast<f32>(0x7fc00000u | (p.n4 & 0u))); }
  }
  return v;
}
