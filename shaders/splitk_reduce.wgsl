// out[i] = Σ_s partial[s·n + i]: sums the split-K slices in a fixed order (deterministic, no atomics).
override WG: u32 = 64u;

struct Params { n: u32, splits: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> partial: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  var s = 0.0;
  for (var k = 0u; k < p.splits; k++) { s += partial[k * p.n + i]; }
  out[i] = s;
}
