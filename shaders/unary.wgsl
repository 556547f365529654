// out = OP(a) on contiguous data in vec4s (pooled buffers are padded to 16 bytes, so the
// vec4 view always fits; the padding's values are computed and never read). ALPHA is a per-dispatch scalar.
override OP: u32 = 0u;  // 0 relu, 1 exp, 2 log, 3 sqrt, 4 scale by alpha, 5 square, 6 add alpha, 7 fill alpha, 8 relu6

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
    case 0u: { v = max(x, vec4<f32>(0.0)); }
    case 1u: { v = exp(x); }
    case 2u: { v = log(x); }
    case 3u: { v = sqrt(x); }
    case 4u: { v = x * p.alpha; }
    case 5u: { v = x * x; }
    case 6u: { v = x + p.alpha; }
    case 8u: { v = clamp(x, vec4<f32>(0.0), vec4<f32>(6.0)); }
    default: { v = vec4<f32>(p.alpha); }
  }
  return v;
}
