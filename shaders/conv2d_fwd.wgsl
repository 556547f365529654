// Conv2d forward as an implicit GEMM: Y[pixel, co] = Σ_k A[pixel, k] · W[k, co] with k = (ky, kx, ci) and
// A[pixel, k] = X[n, oy·s − pad + ky, ox·s − pad + kx, ci] (0 outside the image), never materialised.
// Layouts: X [N, H, W, Cin] (NHWC), W4 = the weights [KH, KW, Cin, Cout] with rows padded to C4·4 columns
// (engine/kernels/conv2d/ packs them when Cout % 4 != 0), Y [N, Ho, Wo, Cout].
// Register blocking as in matmul.wgsl (see there for why loads are what counts on CPU drivers): an invocation
// owns TM pixels (WG apart, so the 8 lanes of a SIMD vector read neighbouring pixels) × TN output channels. The
// weights come in vec4s of 4 output channels, but A is gathered one float per pixel and k: in NHWC, 4 pixels'
// values of one channel are not neighbours, so the vec4-over-rows trick of matmul.wgsl and conv2d_wgrad.wgsl
// does not apply. (Output channels as the rows and pixels as the columns, with X read in vec4s of 4 input
// channels, measured 2× slower.)
override TM: u32 = 8u;    // pixels per invocation, at most 16
override TN: u32 = 32u;   // output channels per invocation: a multiple of 4, at most 32
override WG: u32 = 16u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, hasBias: u32,
  C4: u32,   // weight row length in vec4s
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
// binding 2: the right-hand operand W4, read through rowB (gemm_b_storage.wgsl or gemm_b_subgroup.wgsl, compiled in front)
@group(0) @binding(3) var<storage, read> bias: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let M = p.N * p.Ho * p.Wo;
  let row0 = (wid.x + wid.z * nwg.x) * WG * TM + lid;
  let col4 = wid.y * (TN / 4u);
  var acc: array<array<vec4<f32>, 8>, 16>;
  // Per pixel: where its receptive field starts (pixels past the end are clamped to the last one).
  var iy0: array<i32, 16>;
  var ix0: array<i32, 16>;
  var nBase: array<u32, 16>;
  for (var i = 0u; i < TM; i++) {
    let m = min(row0 + i * WG, M - 1u);
    let ox = m % p.Wo;
    let oy = (m / p.Wo) % p.Ho;
    let n = m / (p.Wo * p.Ho);
    iy0[i] = i32(oy * p.stride) - i32(p.pad);
    ix0[i] = i32(ox * p.stride) - i32(p.pad);
    nBase[i] = n * p.H * p.W;
  }
  for (var ky = 0u; ky < p.KH; ky++) {
    for (var kx = 0u; kx < p.KW; kx++) {
      // Offset of each pixel's input row for this tap, or -1 when the tap falls in the zero padding.
      var off: array<i32, 16>;
      for (var i = 0u; i < TM; i++) {
        let iy = iy0[i] + i32(ky);
        let ix = ix0[i] + i32(kx);
        let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
        off[i] = select(-1, i32((nBase[i] + u32(iy) * p.W + u32(ix)) * p.Cin), inside);
      }
      let wTap = (ky * p.KW + kx) * p.Cin;
      for (var ci = 0u; ci < p.Cin; ci++) {
        let b = rowB(wTap + ci, col4, p.C4, lid % 8u);
        for (var i = 0u; i < TM; i++) {
          let o = off[i];
          let a = vec4<f32>(select(0.0, X[u32(max(o, 0)) + ci], o >= 0));
          for (var j = 0u; j < TN / 4u; j++) { acc[i][j] = fma(a, b[j], acc[i][j]); }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = row0 + i * WG;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = 4u * col4 + j;
      if (c < p.Cout) {
        var v = acc[i][j / 4u][j % 4u];
        if (p.hasBias != 0u) { v += bias[c]; }
        Y[m * p.Cout + c] = v;
      }
    }
  }
}
