// The weight gradient of a convolution on the tiled GEMM (gemm_tiled.wgsl, compiled in front): row m is a tap
// and input channel (ky, kx, ci), column n an output channel, and k runs over every output pixel (n, oy, ox) of
// the batch. A(m, k) is the input value the tap read for that pixel (0 in the padding), B(k, co) = dY[pixel, co].
// K is long and M·N short, so the sum is split into slices (workgroup z) written to partial[slice] and summed
// afterwards in a fixed order (splitk_reduce.wgsl).
struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> dY: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

fn dims() -> vec3u { return vec3u(p.KH * p.KW * p.Cin, p.Cout, p.N * p.Ho * p.Wo); }

fn loadA(m: u32, k: u32) -> f32 {
  let ci = m % p.Cin;
  let kx = (m / p.Cin) % p.KW;
  let ky = m / (p.Cin * p.KW);
  let ox = k % p.Wo;
  let oy = (k / p.Wo) % p.Ho;
  let n = k / (p.Wo * p.Ho);
  let iy = i32(oy * p.stride + ky) - i32(p.pad);
  let ix = i32(ox * p.stride + kx) - i32(p.pad);
  if (iy < 0 || iy >= i32(p.H) || ix < 0 || ix >= i32(p.W)) { return 0.0; }
  return X[((n * p.H + u32(iy)) * p.W + u32(ix)) * p.Cin + ci];
}

fn loadB(k: u32, co: u32) -> f32 { return dY[k * p.Cout + co]; }

fn store(m: u32, n: u32, v: f32, slice: u32) { partial[(slice * p.KH * p.KW * p.Cin + m) * p.Cout + n] = v; }
