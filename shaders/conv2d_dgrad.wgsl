// Conv2d input gradient as an implicit GEMM: dX[pixel, ci] = Σ_k A[pixel, k] · B[k, ci] with k = (ky, kx, co),
// A[pixel, k] = dY[n, oy, ox, co] where (oy, ox) is the output that tap (ky, kx) of pixel (iy, ix) feeds —
// oy = (iy + pad − ky) / stride when that divides exactly and lies inside the output, otherwise 0 — and
// B[k, ci] = W[ky, kx, ci, co] read in place (no transposed copy of the weights).
// Layouts: dY [N, Ho, Wo, Cout], W [KH, KW, Cin, Cout], dX [N, H, W, Cin].
override TM: u32 = 4u;
override TN: u32 = 16u;
override WG: u32 = 64u;
const MAX_TM = 16u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, _p: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
@group(0) @binding(2) var<storage, read> Wt: array<f32>;
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let M = p.N * p.H * p.W;
  let row0 = (wid.x + wid.z * nwg.x) * WG * TM + lid;
  let col0 = wid.y * TN;
  var acc: array<vec4<f32>, 64>;
  for (var i = 0u; i < TM * TN / 4u; i++) { acc[i] = vec4<f32>(0.0); }
  var iyp: array<i32, MAX_TM>;   // iy + pad
  var ixp: array<i32, MAX_TM>;
  var nBase: array<u32, MAX_TM>;
  for (var i = 0u; i < TM; i++) {
    let m = min(row0 + i * WG, M - 1u);
    ixp[i] = i32(m % p.W) + i32(p.pad);
    iyp[i] = i32((m / p.W) % p.H) + i32(p.pad);
    nBase[i] = (m / (p.W * p.H)) * p.Ho * p.Wo;
  }
  let s = i32(p.stride);
  for (var ky = 0u; ky < p.KH; ky++) {
    for (var kx = 0u; kx < p.KW; kx++) {
      var off: array<i32, MAX_TM>;
      for (var i = 0u; i < TM; i++) {
        let ty = iyp[i] - i32(ky);
        let tx = ixp[i] - i32(kx);
        let oy = ty / s;
        let ox = tx / s;
        let hit = ty >= 0 && tx >= 0 && oy * s == ty && ox * s == tx && oy < i32(p.Ho) && ox < i32(p.Wo);
        off[i] = select(-1, i32((nBase[i] + u32(oy) * p.Wo + u32(ox)) * p.Cout), hit);
      }
      let wTap = (ky * p.KW + kx) * p.Cin;
      for (var co = 0u; co < p.Cout; co++) {
        var b: array<vec4<f32>, 4>;
        for (var j = 0u; j < TN / 4u; j++) {
          let c = col0 + 4u * j;
          let last = p.Cin - 1u;
          b[j] = vec4<f32>(Wt[(wTap + min(c, last)) * p.Cout + co], Wt[(wTap + min(c + 1u, last)) * p.Cout + co],
                           Wt[(wTap + min(c + 2u, last)) * p.Cout + co], Wt[(wTap + min(c + 3u, last)) * p.Cout + co]);
        }
        for (var i = 0u; i < TM; i++) {
          let o = off[i];
          let a = select(0.0, dY[u32(max(o, 0)) + co], o >= 0);
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
      if (c < p.Cin) { dX[m * p.Cin + c] = acc[i * (TN / 4u) + j / 4u][j % 4u]; }
    }
  }
}
