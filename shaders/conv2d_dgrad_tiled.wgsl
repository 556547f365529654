// The input gradient of a convolution on the tiled GEMM (gemm_tiled.wgsl, compiled in front): row m is an input
// pixel (n, iy, ix), column n an input channel, k a tap and output channel (ky, kx, co). A(m, k) is the output
// gradient of the pixel that read (iy, ix) through that tap — oy = (iy + pad − ky) / stride, when that is a whole
// number inside the output, else 0 — and B(k, ci) = W[ky, kx, ci, co].
struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

fn dims() -> vec3u { return vec3u(p.N * p.H * p.W, p.Cin, p.KH * p.KW * p.Cout); }

fn loadA(m: u32, k: u32) -> f32 {
  let ix = m % p.W;
  let iy = (m / p.W) % p.H;
  let n = m / (p.W * p.H);
  let co = k % p.Cout;
  let kx = (k / p.Cout) % p.KW;
  let ky = k / (p.Cout * p.KW);
  let s = i32(p.stride);
  let ty = i32(iy + p.pad) - i32(ky);   // oy·stride
  let tx = i32(ix + p.pad) - i32(kx);
  if (ty < 0 || tx < 0 || ty % s != 0 || tx % s != 0 || ty / s >= i32(p.Ho) || tx / s >= i32(p.Wo)) { return 0.0; }
  return dY[((n * p.Ho + u32(ty / s)) * p.Wo + u32(tx / s)) * p.Cout + co];
}

fn loadB(k: u32, ci: u32) -> f32 {
  let co = k % p.Cout;
  let tap = k / p.Cout;
  return Wt[(tap * p.Cin + ci) * p.Cout + co];
}

fn store(m: u32, n: u32, v: f32, slice: u32) { dX[m * p.Cin + n] = v; }
