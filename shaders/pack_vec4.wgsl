// Copies a matrix into the layout the register-blocked kernels read with vec4 loads: out[b][r][c] for c < C4
// (C rounded up to a multiple of 4), taken from in[b·sb + r·sr + c·sc] and zero in the padding columns.
// Any strides, so the same kernel pads (sc = 1), transposes (sr = 1) or does both, per batch b.
// What it packs is small next to the work of the kernel that reads it (weights; a matmul operand, O(M·K) next to
// O(M·N·K)), so this extra pass buys vec4 loads for every shape and layout.
// R and Q are override constants because the kernel divides by them: a division by a constant compiles to a
// multiply and shift, while by a uniform value llvmpipe divides lane by lane (docs/cpu-drivers.md).
// Each invocation writes whole vec4s (4 columns of a row): one vector store instead of four scalar ones. Launched
// by vec4_each.wgsl, compiled in front of this file.
override R: u32 = 1u;    // rows per batch
override Q: u32 = 1u;    // vec4s per output row: ⌈C / 4⌉

struct Params {
  batches: u32, C: u32, sb: u32, sr: u32,
  sc: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<vec4<f32>>;

fn vectors() -> u32 { return p.batches * R * Q; }
fn store(i: u32) { dst[i] = value(i); }

fn value(i: u32) -> vec4<f32> {
  let q = i % Q;
  let r = (i / Q) % R;
  let b = i / (Q * R);
  let row = b * p.sb + r * p.sr;
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) {
    let c = 4u * q + e;
    if (c < p.C) { v[e] = src[row + c * p.sc]; }
  }
  return v;
}
