// y = x·scale[c] + shift[c] (then ReLU if fused), four channels per invocation with vec4 loads (C % 4 = 0).
override RELU: bool = false;
override C4: u32 = 1u;   // channels / 4: a constant, so i % C4 is cheap
override WG: u32 = 64u;

struct Params { n4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;   // [mean, invstd, scale, shift] × C
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n4) { return; }
  let q = i % C4;
  var v = fma(x[i], stats[2u * C4 + q], stats[3u * C4 + q]);
  if (RELU) { v = max(v, vec4<f32>(0.0)); }
  y[i] = v;
}
