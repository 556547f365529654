// Depthwise convolution (groups = channels: one KH×KW filter per channel, no sum over channels):
//   Y[n, oy, ox, c] = Σ_{ky, kx} X[n, S·oy − pad + ky, S·ox − pad + kx, c] · W[ky, kx, c]  (+ bias[c]; 0 outside X)
// Each invocation computes TM neighbouring output pixels of one row for one block of 4 channels (channels are
// NHWC's innermost axis, so a block is one vec4). Its channels' KH·KW taps stay in registers, and the
// S·(TM − 1) + KW input values under a row of taps are loaded once for all the taps that read them.
// With FLIP the taps are read mirrored (W[KH − 1 − ky, KW − 1 − kx, c]): then X = dY and pad = K − 1 − pad make
// it the input gradient of a stride-1 depthwise convolution (conv2d_dw_dgrad.wgsl does strided ones).
// Operands through conv2d_dw_vec4.wgsl or conv2d_dw_scalar.wgsl, compiled in front: a = X [N, H, W, C],
// b = W [KH·KW, C], out = Y [N, Ho, Wo, C]. Launched by engine/kernels/conv2d/depthwise.ts.
override TM: u32 = 4u;       // output pixels per invocation, along a row (at most TMAX)
override KH: u32 = 3u;
override KW: u32 = 3u;       // KH·KW ≤ KMAX
override STRIDE: u32 = 1u;
override FLIP: bool = false;
override WG: u32 = 64u;
override XL: u32 = STRIDE * (TM - 1u) + KW;   // input values under a row of taps, at most XMAX

const TMAX = 8u;
const KMAX = 49u;
const XMAX = 32u;

struct Params { N: u32, H: u32, W: u32, C: u32, C4: u32, Ho: u32, Wo: u32, segs: u32, pad: i32, hasBias: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> bias: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.Ho * p.segs * p.C4) { return; }
  // Neighbouring invocations take neighbouring channel blocks of the same pixels.
  let q = i % p.C4;
  let seg = (i / p.C4) % p.segs;
  let oy = (i / (p.C4 * p.segs)) % p.Ho;
  let n = i / (p.C4 * p.segs * p.Ho);
  var w: array<vec4<f32>, KMAX>;
  for (var t = 0u; t < KH * KW; t++) {
    w[t] = loadB(select(t, KH * KW - 1u - t, FLIP), q);   // mirrored in both axes = the taps in reverse order
  }
  let ox0 = seg * TM;
  let ix0 = i32(ox0 * STRIDE) - p.pad;
  var acc: array<vec4<f32>, TMAX>;
  for (var ky = 0u; ky < KH; ky++) {
    let iy = i32(oy * STRIDE + ky) - p.pad;
    let rowInside = iy >= 0 && iy < i32(p.H);
    let rowBase = (n * p.H + u32(max(iy, 0))) * p.W;
    var xs: array<vec4<f32>, XMAX>;
    for (var t = 0u; t < XL; t++) {
      let ix = ix0 + i32(t);
      if (rowInside && ix >= 0 && ix < i32(p.W)) { xs[t] = loadA(rowBase + u32(ix), q); }
    }
    for (var j = 0u; j < TM; j++) {
      for (var kx = 0u; kx < KW; kx++) {
        acc[j] = fma(xs[STRIDE * j + kx], w[ky * KW + kx], acc[j]);
      }
    }
  }
  var bv = vec4<f32>(0.0);
  if (p.hasBias != 0u) {
    for (var k = 0u; k < 4u; k++) { bv[k] = bias[min(4u * q + k, p.C - 1u)]; }
  }
  for (var j = 0u; j < TM; j++) {
    let ox = ox0 + j;
    if (ox < p.Wo) { storeOut((n * p.Ho + oy) * p.Wo + ox, q, acc[j] + bv); }
  }
}
