// The forward pass of a convolution on the tiled GEMM (gemm_tiled.wgsl, compiled in front), as an implicit
// GEMM: row m is an output pixel (n, oy, ox), column n an output channel, k a tap and input channel
// (ky, kx, ci), so A(m, k) is the input value that tap reads for that pixel (0 in the padding) and B is the
// weights [KH·KW·Cin, Cout] as they are. "Implicit": A is never written out, loadA computes where to read.
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

fn dims() -> vec3u { return vec3u(p.N * p.Ho * p.Wo, p.Cout, p.KH * p.KW * p.Cin); }

fn loadA(m: u32, k: u32) -> f32 {
  let ox = m % p.Wo;
  let oy = (m / p.Wo) % p.Ho;
  let n = m / (p.Wo * p.Ho);
  let ci = k % p.Cin;
  let kx = (k / p.Cin) % p.KW;
  let ky = k / (p.Cin * p.KW);
  let iy = i32(oy * p.stride + ky) - i32(p.pad);
  let ix = i32(ox * p.stride + kx) - i32(p.pad);
  if (iy < 0 || iy >= i32(p.H) || ix < 0 || ix >= i32(p.W)) { return 0.0; }
  return X[((n * p.H + u32(iy)) * p.W + u32(ix)) * p.Cin + ci];
}

fn loadB(k: u32, n: u32) -> f32 { return Wt[k * p.Cout + n]; }

fn store(m: u32, n: u32, v: f32, slice: u32) { Y[m * p.Cout + n] = v + select(0.0, bias[n], p.hasBias == 1u); }
