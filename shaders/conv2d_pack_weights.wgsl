// Packs conv weights W [KH, KW, Cin, Cout] into the column blocks that conv2d_rows.wgsl binds as a uniform
// buffer: block b holds Wb[u, v, r, c] for the packed taps (u, v) < (PKH, PKW) and columns b·TN + c,
// zero-padded, and blocks start `stride` floats apart (a multiple of the 256-byte uniform offset alignment).
// Padding rows and columns are zeroed; the buffer past the last block (which the 64 KB binding of that block
// covers) is neither written nor read.
// Packed tap (u, v) is the kernel's tap (ky, kx) = (ay + sy·u, ax + sx·v):
// FLIP = 0 (forward): r = input channel, columns = output channels, Wb[u, v, r, c] = W[ky, kx, r, col] with
//   all taps in order (ay = ax = 0, sy = sx = 1).
// FLIP = 1 (input gradient): r = output channel, columns = input channels, Wb[u, v, r, c] = W[ky, kx, col, r].
//   At stride 1 the taps are mirrored (ay = KH − 1, sy = −1, likewise in x); at stride S a row class of the
//   input takes every S-th kernel row, mirrored (sy = −S), and all kernel columns in order (engine/ops/conv2d.ts).
override FLIP: u32 = 0u;

struct Params {
  KH: u32, KW: u32, Cin: u32, Cout: u32,
  TN: u32, stride: u32, total: u32, PKH: u32,   // total: the floats to write, blocks · stride
  PKW: u32, ay: i32, sy: i32, ax: i32,
  sx: i32, _p0: u32, _p1: u32, _p2: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> W: array<f32>;
@group(0) @binding(2) var<storage, read_write> Wb: array<f32>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let e = gid.x + gid.y * nwg.x * 64u;
  if (e >= p.total) { return; }
  let R = select(p.Cin, p.Cout, FLIP == 1u);
  let C = select(p.Cout, p.Cin, FLIP == 1u);
  let b = e / p.stride;
  let q = e % p.stride;
  let c = q % p.TN;
  let r = (q / p.TN) % R;
  let tap = q / (p.TN * R);
  let col = b * p.TN + c;
  var v = 0.0;
  if (tap < p.PKH * p.PKW && col < C) {
    let ky = u32(p.ay + p.sy * i32(tap / p.PKW));
    let kx = u32(p.ax + p.sx * i32(tap % p.PKW));
    if (FLIP == 1u) {
      v = W[((ky * p.KW + kx) * p.Cin + col) * p.Cout + r];
    } else {
      v = W[((ky * p.KW + kx) * p.Cin + r) * p.Cout + col];
    }
  }
  Wb[e] = v;
}
