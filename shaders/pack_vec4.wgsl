// Copies a matrix into the layout the register-blocked kernels read with vec4 loads: out[b][r][c] for c < C4
// (C rounded up to a multiple of 4), taken from in[b·sb + r·sr + c·sc] and zero in the padding columns.
// Any strides, so the same kernel pads (sc = 1), transposes (sr = 1) or does both, per batch b.
// What it packs is small next to the work of the kernel that reads it (weights; a matmul operand, O(M·K) next to
// O(M·N·K)), so this extra pass buys vec4 loads for every shape and layout.
// R and C4 are override constants because the kernel divides by them: a division by a constant compiles to a
// multiply and shift, while by a uniform value llvmpipe divides lane by lane (docs/cpu-drivers.md).
override WG: u32 = 64u;
override R: u32 = 1u;    // rows per batch
override C4: u32 = 4u;   // columns, rounded up to a multiple of 4

struct Params {
  batches: u32, C: u32, sb: u32, sr: u32,
  sc: u32, _p0: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.batches * R * C4) { return; }
  let c = i % C4;
  let r = (i / C4) % R;
  let b = i / (C4 * R);
  var v = 0.0;
  if (c < p.C) { v = src[b * p.sb + r * p.sr + c * p.sc]; }
  dst[i] = v;
}
