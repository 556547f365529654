// The forward pass of a convolution, one output value per invocation: the definition, written out.
//   Y[n, oy, ox, co] = bias[co] + Σ_{ky, kx, ci} X[n, oy·stride − pad + ky, ox·stride − pad + kx, ci] · W[ky, kx, ci, co]
// with X read as 0 outside the image. Layouts: X [N, H, W, Cin] (NHWC), W [KH, KW, Cin, Cout], Y [N, Ho, Wo, Cout].
// The first rung of the kernel ladder (docs/kernel-ladder.md).
override WG: u32 = 64u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, hasBias: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;   // which element of Y
  if (i >= p.N * p.Ho * p.Wo * p.Cout) { return; }
  let co = i % p.Cout;
  let ox = (i / p.Cout) % p.Wo;
  let oy = (i / (p.Cout * p.Wo)) % p.Ho;
  let n = i / (p.Cout * p.Wo * p.Ho);
  var sum = select(0.0, bias[co], p.hasBias == 1u);
  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy * p.stride + ky) - i32(p.pad);
    if (iy < 0 || iy >= i32(p.H)) { continue; }
    for (var kx = 0u; kx < p.KW; kx++) {
      let ix = i32(ox * p.stride + kx) - i32(p.pad);
      if (ix < 0 || ix >= i32(p.W)) { continue; }
      let x0 = ((n * p.H + u32(iy)) * p.W + u32(ix)) * p.Cin;   // X[n, iy, ix, 0]
      let w0 = (ky * p.KW + kx) * p.Cin * p.Cout + co;         // W[ky, kx, 0, co]
      for (var ci = 0u; ci < p.Cin; ci++) { sum += X[x0 + ci] * Wt[w0 + ci * p.Cout]; }
    }
  }
  Y[i] = sum;
}
