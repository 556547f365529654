// y = x·scale[c] + shift[c] (then ReLU if fused), four channels per invocation with vec4 loads (C % 4 = 0).
// An invocation keeps one channel quad and walks RPI rows: it loads its scale and shift once, not per element
// (on CPU drivers every per-lane load costs several FMAs' time, docs/cpu-drivers.md).
override RELU: bool = false;
override C4: u32 = 1u;   // channels / 4
override WG: u32 = 64u;
override RPI: u32 = 16u;   // rows per invocation

struct Params { R: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;   // [mean, invstd, scale, shift] × C
@group(0) @binding(3) var<storage, read_write> y: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  let q = t % C4;
  let first = (t / C4) * RPI;
  if (first >= p.R) { return; }
  let scale = stats[2u * C4 + q];
  let shift = stats[3u * C4 + q];
  for (var r = first; r < min(first + RPI, p.R); r++) {
    let i = r * C4 + q;
    var v = fma(x[i], scale, shift);
    if (RELU) { v = max(v, vec4<f32>(0.0)); }
    y[i] = v;
  }
}
