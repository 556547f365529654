// Conv2d input gradient as an implicit GEMM: dX[pixel, ci] = Σ_k A[pixel, k] · B[k, ci] with k = (ky, kx, co),
// A[pixel, k] = dY[n, oy, ox, co] where (oy, ox) is the output that tap (ky, kx) of pixel (iy, ix) feeds —
// oy = (iy + pad − ky) / stride when that divides exactly and lies inside the output, otherwise 0 — and
// B[k, ci] = W[ky, kx, ci, co]: the weights transposed per tap, which engine/kernels/conv2d/ packs into Wt4
// [KH, KW, Cout, C4·4] (rows padded to a multiple of 4) so that they load as vec4s. The weights are small; the
// copy is cheap next to this kernel.
// Layouts: dY [N, Ho, Wo, Cout], dX [N, H, W, Cin]. Register blocking as in conv2d_fwd.wgsl (dY gathered one
// float per pixel and k, the weights in vec4s).
// Strided convolutions: an input pixel (iy, ix) is fed back only through the taps with ky ≡ iy + pad and
// kx ≡ ix + pad (mod stride). So the pixels are split into stride² classes by (iy mod stride, ix mod stride),
// one dispatch each (py, px below), and each visits only its own taps: no work is spent on the 3/4 of
// (pixel, tap) pairs that a stride-2 layer leaves empty. With stride 1 there is one class, all pixels.
override TM: u32 = 8u;
override TN: u32 = 32u;
override WG: u32 = 16u;
// The stride is a pipeline constant here (not a uniform like the other sizes) because this kernel divides by it:
// integer division is not a SIMD instruction on CPUs, and a constant 1 or 2 compiles to nothing or a shift.
override STRIDE: i32 = 1;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, pad: u32, C4: u32,   // the stride is STRIDE; C4: Wt4 row length in vec4s
  py: u32, px: u32, Hc: u32, Wc: u32,          // this dispatch's pixel class and its extent (rows, columns)
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> dY: array<f32>;
// binding 2: the right-hand operand Wt4, read through rowB (gemm_b_storage.wgsl or gemm_b_subgroup.wgsl, compiled in front)
@group(0) @binding(3) var<storage, read_write> dX: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let M = p.N * p.Hc * p.Wc;
  let row0 = (wid.x + wid.z * nwg.x) * WG * TM + lid;
  let col4 = wid.y * (TN / 4u);
  var acc: array<array<vec4<f32>, 8>, 16>;
  var iyp: array<i32, 16>;   // iy + pad
  var ixp: array<i32, 16>;
  var nBase: array<u32, 16>;
  var xRow: array<u32, 16>;  // the pixel's row of dX
  let s = STRIDE;
  for (var i = 0u; i < TM; i++) {
    let m = min(row0 + i * WG, M - 1u);
    let n = m / (p.Wc * p.Hc);
    let iy = ((m / p.Wc) % p.Hc) * u32(s) + p.py;
    let ix = (m % p.Wc) * u32(s) + p.px;
    ixp[i] = i32(ix + p.pad);
    iyp[i] = i32(iy + p.pad);
    nBase[i] = n * p.Ho * p.Wo;
    xRow[i] = (n * p.H + iy) * p.W + ix;
  }
  // The taps of this class: ky ≡ py + pad, kx ≡ px + pad (mod stride); ty, tx below are then multiples of s.
  for (var ky = (p.py + p.pad) % u32(s); ky < p.KH; ky += u32(s)) {
    for (var kx = (p.px + p.pad) % u32(s); kx < p.KW; kx += u32(s)) {
      // Offset of the dY row each pixel reads for this tap, or -1 when the tap falls outside the output.
      var off: array<i32, 16>;
      for (var i = 0u; i < TM; i++) {
        let ty = iyp[i] - i32(ky);
        let tx = ixp[i] - i32(kx);
        let oy = ty / s;
        let ox = tx / s;
        let hit = ty >= 0 && tx >= 0 && oy < i32(p.Ho) && ox < i32(p.Wo);
        off[i] = select(-1, i32((nBase[i] + u32(oy) * p.Wo + u32(ox)) * p.Cout), hit);
      }
      let wTap = (ky * p.KW + kx) * p.Cout;
      for (var co = 0u; co < p.Cout; co++) {
        let b = rowB(wTap + co, col4, p.C4, lid % 8u);
        for (var i = 0u; i < TM; i++) {
          let o = off[i];
          let a = vec4<f32>(select(0.0, dY[u32(max(o, 0)) + co], o >= 0));
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
      if (c < p.Cin) { dX[xRow[i] * p.Cin + c] = acc[i][j / 4u][j % 4u]; }
    }
  }
}
