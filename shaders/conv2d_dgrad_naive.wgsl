// The input gradient of a convolution, one input value per invocation. Input pixel (iy, ix) was read by output
// pixel (oy, ox) through tap (ky, kx) when iy = oy·stride − pad + ky, so
//   dX[n, iy, ix, ci] = Σ_{ky, kx, co} dY[n, oy, ox, co] · W[ky, kx, ci, co]
// over the taps for which oy = (iy + pad − ky) / stride (and ox likewise) is a whole number inside the output.
// The first rung of the kernel ladder (docs/kernel-ladder.md).
override WG: u32 = 64u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;   // which element of dX
  if (i >= p.N * p.H * p.W * p.Cin) { return; }
  let ci = i % p.Cin;
  let ix = (i / p.Cin) % p.W;
  let iy = (i / (p.Cin * p.W)) % p.H;
  let n = i / (p.Cin * p.W * p.H);
  let s = i32(p.stride);
  var sum = 0.0;
  for (var ky = 0u; ky < p.KH; ky++) {
    let ty = i32(iy + p.pad) - i32(ky);   // oy·stride
    if (ty < 0 || ty % s != 0 || ty / s >= i32(p.Ho)) { continue; }
    for (var kx = 0u; kx < p.KW; kx++) {
      let tx = i32(ix + p.pad) - i32(kx);
      if (tx < 0 || tx % s != 0 || tx / s >= i32(p.Wo)) { continue; }
      let g0 = ((n * p.Ho + u32(ty / s)) * p.Wo + u32(tx / s)) * p.Cout;   // dY[n, oy, ox, 0]
      let w0 = ((ky * p.KW + kx) * p.Cin + ci) * p.Cout;                     // W[ky, kx, ci, 0]
      for (var co = 0u; co < p.Cout; co++) { sum += dY[g0 + co] * Wt[w0 + co]; }
    }
  }
  dX[i] = sum;
}
