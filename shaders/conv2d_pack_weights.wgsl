// Packs conv weights W [KH, KW, Cin, Cout] into the column blocks that conv2d_rows.wgsl binds as a uniform
// buffer: block b holds Wb[u, v, r, c] for the packed taps (u, v) < (PKH, PKW) and columns b·TN + c,
// zero-padded, and blocks start STRIDE floats apart (a multiple of the 256-byte uniform offset alignment).
// Padding rows and columns are zeroed; the buffer past the last block (which the 64 KB binding of that block
// covers) is neither written nor read.
// Packed tap (u, v) is the kernel's tap (ky, kx) = (ay + sy·u, ax + sx·v):
// FLIP = 0 (forward): r = input channel, columns = output channels, Wb[u, v, r, c] = W[ky, kx, r, col] with
//   all taps in order (ay = ax = 0, sy = sx = 1).
// FLIP = 1 (input gradient): r = output channel, columns = input channels, Wb[u, v, r, c] = W[ky, kx, col, r].
//   At stride 1 the taps are mirrored (ay = KH − 1, sy = −1, likewise in x); at stride S a row class of the
//   input takes every S-th kernel row, mirrored (sy = −S), and all kernel columns in order (engine/kernels/conv2d/).
// The shape values it divides by are override constants: a division by a constant compiles to a multiply and
// shift, while by a uniform value llvmpipe divides lane by lane (docs/cpu-drivers.md).
override FLIP: u32 = 0u;
override TN: u32 = 16u;     // columns per block
override R: u32 = 1u;       // rows per packed tap: Cin (forward) or Cout (FLIP = 1)
override PKW: u32 = 1u;     // packed taps per row
override STRIDE: u32 = 16u; // floats from one block to the next

struct Params {
  KH: u32, KW: u32, Cin: u32, Cout: u32,
  total: u32, PKH: u32, ay: i32, sy: i32,   // total: the floats to write, blocks · STRIDE
  ax: i32, sx: i32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> Wb: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  if (e >= p.total) { return; }
  let C = select(p.Cout, p.Cin, FLIP == 1u);
  let b = e / STRIDE;
  let q = e % STRIDE;
  let c = q % TN;
  let r = (q / TN) % R;
  let tap = q / (TN * R);
  let col = b * TN + c;
  var v = 0.0;
  if (tap < p.PKH * PKW && col < C) {
    let ky = u32(p.ay + p.sy * i32(tap / PKW));
    let kx = u32(p.ax + p.sx * i32(tap % PKW));
    if (FLIP == 1u) {
      v = W[((ky * p.KW + kx) * p.Cin + col) * p.Cout + r];
    } else {
      v = W[((ky * p.KW + kx) * p.Cin + r) * p.Cout + col];
    }
  }
  Wb[e] = v;
}
