// out = OP(a) on contiguous data, four elements per invocation (pooled buffers are padded to 16 bytes, so the
// vec4 view always fits; the padding's values are computed and never read). ALPHA is a per-dispatch scalar.
override OP: u32 = 0u;  // 0 relu, 1 exp, 2 log, 3 sqrt, 4 scale by alpha, 5 square, 6 add alpha, 7 fill alpha
override WG: u32 = 256u;
override PER: u32 = 4u;   // vectors per invocation (engine/ops/util.ts, VEC_PER, says why)

struct Params { n4: u32, alpha: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

// A workgroup covers WG·PER consecutive vectors; lane l takes vectors l, l + WG, …, so neighbouring lanes touch
// neighbouring vectors at every step.
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let base = (wid.x + wid.y * nwg.x) * WG * PER + lid;
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < p.n4) { out[i] = apply(i); }
  }
}

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
    default: { v = vec4<f32>(p.alpha); }
  }
  return v;
}
