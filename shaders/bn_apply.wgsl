// y = (x − mean[c]) · invstd[c] · gamma[c] + beta[c], optionally followed by ReLU (fused: one pass, not two).
override RELU: bool = false;
override C: u32 = 1u;   // channels, a constant so that i % C is cheap (see binary.wgsl)
override WG: u32 = 64u;

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> stats: array<f32>;
@group(0) @binding(3) var<storage, read> gamma: array<f32>;
@group(0) @binding(4) var<storage, read> beta: array<f32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % C;
  var v = (x[i] - stats[c]) * stats[C + c] * gamma[c] + beta[c];
  if (RELU) { v = max(v, 0.0); }
  y[i] = v;
}
