// Batch-norm backward, pass 2 of 2: dx = A·g + B·x + D per channel (coefficients from bn_backward_reduce4),
// with g masked by y > 0 for the fused ReLU; four channels per invocation (C % 4 = 0).
override RELU: bool = false;
override C4: u32 = 1u;
override WG: u32 = 64u;

struct Params { n4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> coef: array<vec4<f32>>;   // [Σg, Σg·x̂, A, B, D] × C
@group(0) @binding(5) var<storage, read_write> dx: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n4) { return; }
  let q = i % C4;
  var gi = g[i];
  if (RELU) { gi = select(vec4<f32>(0.0), gi, y[i] > vec4<f32>(0.0)); }
  dx[i] = coef[2u * C4 + q] * gi + coef[3u * C4 + q] * x[i] + coef[4u * C4 + q];
}
