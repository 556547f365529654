// Direct 2-D convolution over row segments, with the weights in a uniform buffer: the fast path for small weight
// blocks (engine/kernels/conv2d/ picks it when one column block of weights fits in 64 KB). Computes
//   Y[n, oy, ox, c] = Σ_{ky, kx, r} X[n, s·oy − pad + ky, s·ox − pad + kx, r] · Wb[ky, kx, r, c]  (0 outside X)
// with stride s, for the TN output columns c of this dispatch's column block. Serves the forward pass (X = input,
// r = input channel, Wb = the weights) and the input gradient (X = dY, r = output channel, Wb = the weights
// flipped in both taps and transposed, pad' = K − 1 − pad; at stride 2 per class of rows, see UP below):
// engine/kernels/conv2d/ packs Wb either way (conv2d_pack_weights.wgsl).
// The weights come from one of two small files compiled in front of this one, which declare binding 2 and
// `rowWeights` (every invocation reads the same weights):
// - conv2d_rows_wuniform.wgsl: a uniform buffer, which llvmpipe reads faster than a storage buffer at an address
//   all lanes share (docs/cpu-drivers.md), though at a run-time index still lane by lane;
// - conv2d_rows_wsubgroup.wgsl, where 8-invocation subgroups exist (Runtime.subgroups8): each lane reads one
//   weight and subgroupBroadcast hands it to the others, measured cheaper still (docs/cpu-drivers.md).
// Why it beats the implicit GEMM (conv2d_fwd.wgsl) on CPU drivers: cheap shared weights (above); TM neighbouring
// output pixels per invocation, so the TM + KW − 1 input values under a row of taps are loaded once for all KW
// taps; and each accumulator takes its KW taps in a row, its loops spelled out in the text (engine/unroll.ts).
// The measurements: docs/cpu-drivers.md, "The row convolution kernel".
// A strided input gradient runs here one class of input rows at a time (engine/kernels/conv2d/): the rows y0 + S·a
// take their gradient from the kernel rows that reach them (every S-th, mirrored), and along x each pixel takes
// the taps that reach it (UP above).
// Layouts: X [N, H, W, R] (NHWC), Wb as vec4s [KH, KW, R, TN/4] for this block, Y [N, YH, Wo, C] of which this
// dispatch writes the rows y0 + YS·oy (YS = 1, y0 = 0, YH = Ho but for the above). X's R channels and Y's C may
// be a window of wider tensors: xStride channels per pixel from channel xOff (and yStride, yOff), which is how a
// grouped convolution reads and writes each group's channels in place (engine/kernels/conv2d/grouped.ts).
override TM: u32 = 8u;    // output pixels per invocation (along a row): at most 16, with XL ≤ XS
override TN: u32 = 16u;   // output columns per invocation and per dispatch: a multiple of 4, at most 16 (rowsTN)
override WG: u32 = 8u;    // 8: one SIMD vector on llvmpipe, one subgroup for conv2d_rows_wsubgroup.wgsl
override KW: u32 = 3u;    // a constant: it sizes the unrolled input window; at most KMAX
override STRIDE: u32 = 1u;   // forward pass only (the input gradient runs here at stride 1, or with UP)
// The input gradient of a convolution with stride UP along x (UP > 1; STRIDE is 1 then): output pixel ox takes
// the taps kx with ox + UPAD − kx ≡ 0 (mod UP), from input column (ox + UPAD − kx) / UP. A segment starts at a
// multiple of UP (TM % UP == 0), so which taps pixel i takes is known when the kernel is compiled.
override UP: u32 = 1u;
override UPAD: u32 = 0u;   // that convolution's padding along x
override UOFF: u32 = UP * ((KW + UP - 2u) / UP);   // a multiple of UP ≥ KW − 1: keeps window indices ≥ 0
// Input values under one segment's row of taps, at most XS: STRIDE·(TM − 1) + KW, or with UP > 1
// (TM − 1 + UPAD + UOFF) / UP + 1 (one expression for both: UPAD = 0 and UOFF = KW − 1 when UP = 1).
override XL: u32 = (STRIDE * (TM - 1u) + UPAD + UOFF) / UP + 1u;

struct Params {
  N: u32, H: u32, W: u32, R: u32,
  Ho: u32, Wo: u32, C: u32, KH: u32,
  padY: i32, padX: i32, segs: u32, col0: u32,   // segs: row segments per output row; col0: first column
  hasBias: u32, YH: u32, y0: u32, YS: u32,   // Y's rows, and which of them this dispatch writes (below)
  xStride: u32, xOff: u32, yStride: u32, yOff: u32,   // the channel windows (above): R, 0, C, 0 for whole tensors
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
// binding 2: Wb, the weights of this column block (declared by the variant file, see above)
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

const XS = 32u;
const KMAX = 7u;   // the widest kernel row the weight registers hold (only KW of them are used)

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let total = p.N * p.Ho * p.segs;
  let gid = (wid.x + wid.y * nwg.x) * WG + lid;
  let g = min(gid, total - 1u);   // surplus lanes redo the last segment and store nothing
  let seg = g % p.segs;
  let oy = (g / p.segs) % p.Ho;
  let n = g / (p.segs * p.Ho);
  let ox0 = seg * TM;
  let ix0 = select(i32(ox0 * STRIDE) - p.padX, i32(ox0 / UP) - i32(UOFF / UP), UP > 1u);
  var acc: array<array<vec4<f32>, 4>, 16>;
  for (var ky = 0u; ky < p.KH; ky++) {
    let iy = i32(oy * STRIDE + ky) - p.padY;   // padY < 0 for some row classes of a strided input gradient
    let rowInside = iy >= 0 && iy < i32(p.H);
    let rowBase = (n * p.H + u32(max(iy, 0))) * p.W;
    // Where each input value of the window starts, or −1 in the zero padding.
    var off: array<i32, XS>;
    for (var t = 0u; t < XL; t++) {
      let ix = ix0 + i32(t);
      let inside = rowInside && ix >= 0 && ix < i32(p.W);
      off[t] = select(-1, i32((rowBase + u32(max(ix, 0))) * p.xStride + p.xOff), inside);
    }
    for (var r = 0u; r < p.R; r++) {
      var xs: array<f32, XS>;
      for (var t = 0u; t < XL; t++) {
        // Pixel i's tap kx reads xs[STRIDE·i + kx]; with a stride wider than the kernel some values are unused.
        if (KW >= STRIDE || t % STRIDE < KW) {
          let o = off[t];
          xs[t] = select(0.0, X[u32(max(o, 0)) + r], o >= 0);
        }
      }
      // TN weights for each tap (ky, kx) of input channel r.
      var b: array<array<vec4<f32>, 4>, KMAX>;
      for (var kx = 0u; kx < KW; kx++) { b[kx] = rowWeights((ky * KW + kx) * p.R + r, lid); }
      // Each accumulator takes its KW taps in a row before it is written back (see the top of the file).
      for (var i = 0u; i < TM; i++) {
        for (var j = 0u; j < TN / 4u; j++) {
          var s = acc[i][j];
          for (var kx = 0u; kx < KW; kx++) {
            if (UP == 1u) {
              s = fma(vec4<f32>(xs[STRIDE * i + kx]), b[kx][j], s);
            } else if ((i + UPAD + UOFF - kx) % UP == 0u) {   // constant once unrolled
              s = fma(vec4<f32>(xs[(i + UPAD + UOFF - kx) / UP]), b[kx][j], s);
            }
          }
          acc[i][j] = s;
        }
      }
    }
  }
  if (gid >= total) { return; }
  for (var i = 0u; i < TM; i++) {
    let ox = ox0 + i;
    let m = (n * p.YH + p.y0 + p.YS * oy) * p.Wo + ox;
    for (var j = 0u; j < TN; j++) {
      let c = p.col0 + j;
      if (ox < p.Wo && c < p.C) {   // no early exit from the loop: it has to stay unrollable
        var v = acc[i][j / 4u][j % 4u];
        if (p.hasBias != 0u) { v += bias[c]; }
        Y[m * p.yStride + p.yOff + c] = v;
      }
    }
  }
}
