// Batch-norm backward, pass 3 of 3: dx = A·g + B·x + D per channel (coefficients from bn_backward_reduce4.wgsl),
// with g masked where the forward output was > 0 for the fused ReLU (recomputed from x, as in
// bn_backward_chunks4.wgsl); four channels per invocation (C % 4 = 0). Like bn_apply4.wgsl an invocation keeps one
// channel quad and walks RPI rows, loading its coefficients once.
override RELU: bool = false;
override C4: u32 = 1u;
override WG: u32 = 64u;
override RPI: u32 = 16u;   // rows per invocation

struct Params { R: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;   // the forward's [mean, invstd, scale, shift] × C
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;   // [A, B, D] × C
@group(0) @binding(5) var<storage, read_write> dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  let q = t % C4;
  let first = (t / C4) * RPI;
  if (first >= p.R) { return; }
  let A = coef[q];
  let B = coef[C4 + q];
  let D = coef[2u * C4 + q];
  let scale = stats[2u * C4 + q];
  let shift = stats[3u * C4 + q];
  for (var r = first; r < min(first + RPI, p.R); r++) {
    let i = r * C4 + q;
    let xi = x[i];
    var gi = g[i];
    if (RELU) { gi = select(vec4<f32>(0.0), gi, fma(xi, scale, shift) > vec4<f32>(0.0)); }
    dx[i] = A * gi + B * xi + D;
  }
}
