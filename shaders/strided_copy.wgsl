// out[i] = scale · x[offset(i)]: the output is walked row-major over a rank-4 shape and x is read through
// arbitrary strides (offset4, index4.wgsl). Strides of 0 broadcast (expand, the gradient of sum/mean); permuted
// strides transpose.
override D1: u32 = 1u;
override D2: u32 = 1u;
override D3: u32 = 1u;
override WG: u32 = 64u;

struct Params { n: u32, scale: f32, s: vec4<u32> }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  out[i] = p.scale * x[offset4(i, D1, D2, D3, p.s)];
}
