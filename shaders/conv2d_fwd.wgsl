// Conv2d forward as an implicit GEMM: Y[pixel, co] = Σ_k A[pixel, k] · W[k, co] with k = (ky, kx, ci) and
// A[pixel, k] = X[n, oy·s − pad + ky, ox·s − pad + kx, ci] (0 outside the image), never materialised.
// Layouts: X [N, H, W, Cin] (NHWC), W [KH, KW, Cin, Cout], Y [N, Ho, Wo, Cout].
// Same register blocking as matmul.wgsl: an invocation owns TM pixels (WG apart, so neighbouring lanes touch
// neighbouring pixels) × TN output channels; the weights it reads are the same for the whole workgroup.
override TM: u32 = 4u;
override TN: u32 = 16u;   // multiple of 4, at most 16
override WG: u32 = 64u;
const MAX_TM = 16u;

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
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let M = p.N * p.Ho * p.Wo;
  let row0 = (wid.x + wid.z * nwg.x) * WG * TM + lid;
  let col0 = wid.y * TN;
  var acc: array<vec4<f32>, 64>;
  for (var i = 0u; i < TM * TN / 4u; i++) { acc[i] = vec4<f32>(0.0); }
  // Per pixel: where its receptive field starts.
  var iy0: array<i32, MAX_TM>;
  var ix0: array<i32, MAX_TM>;
  var nBase: array<u32, MAX_TM>;
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
      var off: array<i32, MAX_TM>;
      for (var i = 0u; i < TM; i++) {
        let iy = iy0[i] + i32(ky);
        let ix = ix0[i] + i32(kx);
        let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
        off[i] = select(-1, i32((nBase[i] + u32(iy) * p.W + u32(ix)) * p.Cin), inside);
      }
      let wTap = (ky * p.KW + kx) * p.Cin;
      for (var ci = 0u; ci < p.Cin; ci++) {
        let wRow = (wTap + ci) * p.Cout;
        var b: array<vec4<f32>, 4>;
        for (var j = 0u; j < TN / 4u; j++) {
          let c = col0 + 4u * j;
          let last = p.Cout - 1u;
          b[j] = vec4<f32>(Wt[wRow + min(c, last)], Wt[wRow + min(c + 1u, last)],
                           Wt[wRow + min(c + 2u, last)], Wt[wRow + min(c + 3u, last)]);
        }
        for (var i = 0u; i < TM; i++) {
          let o = off[i];
          let a = select(0.0, X[u32(max(o, 0)) + ci], o >= 0);
          for (var j = 0u; j < TN / 4u; j++) {
            acc[i * (TN / 4u) + j] = fma(vec4<f32>(a), b[j], acc[i * (TN / 4u) + j]);
          }
        }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = row0 + i * WG;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = col0 + j;
      if (c < p.Cout) {
        var v = acc[i * (TN / 4u) + j / 4u][j % 4u];
        if (p.hasBias != 0u) { v += bias[c]; }
        Y[m * p.Cout + c] = v;
      }
    }
  }
}
