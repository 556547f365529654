// out[i] = scale · x[offset(i)]: the output is walked row-major over a rank-4 shape and x is read through
// arbitrary strides. Strides of 0 broadcast (expand, the gradient of sum/mean); permuted strides transpose.
override D1: u32 = 1u;  // dims as constants: see binary.wgsl
override D2: u32 = 1u;
override D3: u32 = 1u;
override WG: u32 = 64u;

struct Params { n: u32, s0: u32, s1: u32, s2: u32, s3: u32, scale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var r = i;
  let i3 = r % D3; r = r / D3;
  let i2 = r % D2; r = r / D2;
  let i1 = r % D1;
  let i0 = r / D1;
  out[i] = p.scale * x[i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3];
}
