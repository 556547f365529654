// The weight gradient of a convolution, one weight per invocation: each weight met every output pixel, so
//   dW[ky, kx, ci, co] = Σ_{n, oy, ox} X[n, oy·stride − pad + ky, ox·stride − pad + kx, ci] · dY[n, oy, ox, co]
// (X read as 0 outside the image). Few outputs, each a long sum: the faster rungs split that sum across
// workgroups (docs/kernel-ladder.md).
override WG: u32 = 64u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> dY: array<f32>;
@group(0) @binding(3) var<storage, read_write> dW: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;   // which element of dW
  if (i >= p.KH * p.KW * p.Cin * p.Cout) { return; }
  let co = i % p.Cout;
  let ci = (i / p.Cout) % p.Cin;
  let kx = (i / (p.Cout * p.Cin)) % p.KW;
  let ky = i / (p.Cout * p.Cin * p.KW);
  var sum = 0.0;
  for (var n = 0u; n < p.N; n++) {
    for (var oy = 0u; oy < p.Ho; oy++) {
      let iy = i32(oy * p.stride + ky) - i32(p.pad);
      if (iy < 0 || iy >= i32(p.H)) { continue; }
      for (var ox = 0u; ox < p.Wo; ox++) {
        let ix = i32(ox * p.stride + kx) - i32(p.pad);
        if (ix < 0 || ix >= i32(p.W)) { continue; }
        sum += X[((n * p.H + u32(iy)) * p.W + u32(ix)) * p.Cin + ci] * dY[((n * p.Ho + oy) * p.Wo + ox) * p.Cout + co];
      }
    }
  }
  dW[i] = sum;
}
