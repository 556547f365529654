// Copies a matrix into the layout the register-blocked kernels read with vec4 loads: out[b][r][c] for c < C4
// (C rounded up to a multiple of 4), taken from in[b·sb + r·sr + c·sc] and zero in the padding columns.
// Any strides, so the same kernel pads (sc = 1), transposes (sr = 1) or does both, per batch b.
// What it packs is small next to the work of the kernel that reads it (weights; a matmul operand, O(M·K) next to
// O(M·N·K)), so this extra pass buys vec4 loads for every shape and layout.
override WG: u32 = 64u;

struct Params {
  batches: u32, R: u32, C: u32, C4: u32,
  sb: u32, sr: u32, sc: u32, _p: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.batches * p.R * p.C4) { return; }
  let c = i % p.C4;
  let r = (i / p.C4) % p.R;
  let b = i / (p.C4 * p.R);
  var v = 0.0;
  if (c < p.C) { v = src[b * p.sb + r * p.sr + c * p.sc]; }
  dst[i] = v;
}
