// Packs conv weights W [KH, KW, Cin, Cout] into the column blocks that conv2d_rows.wgsl binds as a uniform
// buffer: block b holds Wb[ky, kx, r, c] for columns b·TN + c, zero-padded, and blocks start `stride` floats
// apart (a multiple of the 256-byte uniform offset alignment). Everything else in the buffer is zeroed.
// FLIP = 0 (forward): r = input channel, columns = output channels, Wb[ky, kx, r, c] = W[ky, kx, r, col].
// FLIP = 1 (stride-1 input gradient): r = output channel, columns = input channels, and the taps are mirrored:
//   Wb[ky, kx, r, c] = W[KH − 1 − ky, KW − 1 − kx, col, r].
override FLIP: u32 = 0u;

struct Params {
  KH: u32, KW: u32, Cin: u32, Cout: u32,
  TN: u32, stride: u32, total: u32, _p: u32,
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
  if (tap < p.KH * p.KW && col < C) {
    let ky = tap / p.KW;
    let kx = tap % p.KW;
    if (FLIP == 1u) {
      v = W[(((p.KH - 1u - ky) * p.KW + (p.KW - 1u - kx)) * p.Cin + col) * p.Cout + r];
    } else {
      v = W[((ky * p.KW + kx) * p.Cin + r) * p.Cout + col];
    }
  }
  Wb[e] = v;
}
