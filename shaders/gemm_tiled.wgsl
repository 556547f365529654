// The tiled GEMM that GPU courses teach, shared by matmul and the three passes of a convolution: C = A·B with
//   C(m, n) = Σ_k A(m, k) · B(k, n),   m < M, n < N, k < K.
// What A, B and C are comes from the file compiled after this one (matmul_tiled.wgsl, conv2d_*_tiled.wgsl): it
// defines dims() = (M, N, K), loadA(m, k), loadB(k, n) (called only inside those bounds) and store(m, n, v, s).
//
// A workgroup of TS × TS = 256 invocations computes one BM × BN = 64 × 64 block of C. It walks k in steps of
// BK = 16: together the invocations copy the A tile (64 × 16) and the B tile (16 × 64) into workgroup memory,
// 4 values each, wait at a barrier, and then each multiplies its own 4 × 4 results out of the shared tiles:
//
//                                  BN = 64 columns of C
//                        B tile  ┌─────────────────────┐
//                        BK × BN │    k0 … k0 + BK     │
//                                └─────────────────────┘
//            BK                  ┌─────────────────────┐
//   A tile ┌────┐                │ invocation (tx, ty) │
//   BM × BK│    │ BM = 64 rows   │ owns rows ty + i·TS │
//          │    │ of C           │ and cols tx + j·TS, │
//          └────┘                │ i, j < RT = 4       │
//                                └─────────────────────┘
// A value copied into the A tile is read by the TS invocations of its row, each using it for RT results: 64
// multiply-adds per value loaded from memory (the B tile likewise), where the naive kernel does 1.
// Invocations own rows and columns TS apart, so neighbouring invocations touch neighbouring addresses
// (coalesced), in the tiles and in C.
//
// Split-K: the K range can be cut into one slice per workgroup along z, each storing its partial sums with its
// slice number; the weight gradient sums them afterwards (K there is every pixel of the batch, M·N is small).
const TS: u32 = 16u;         // invocations per side of the workgroup
const RT: u32 = 4u;          // results per invocation per side
const BM: u32 = TS * RT;     // rows of C per workgroup
const BN: u32 = TS * RT;     // columns of C per workgroup
const BK: u32 = 16u;         // k per step
const LOADS: u32 = BM * BK / (TS * TS);   // values of each tile copied per invocation per step (4)

var<workgroup> As: array<f32, BM * BK>;   // As[r·BK + kk] = A(m0 + r, k0 + kk)
var<workgroup> Bs: array<f32, BK * BN>;   // Bs[kk·BN + c] = B(k0 + kk, n0 + c)

@compute @workgroup_size(TS, TS)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let d = dims();
  let n0 = wid.x * BN;
  let m0 = wid.y * BM;
  let slice = wid.z;
  let kPer = (d.z + nwg.z - 1u) / nwg.z;   // this slice's share of K
  let kBegin = slice * kPer;
  let kEnd = min(d.z, kBegin + kPer);
  let t = lid.y * TS + lid.x;   // 0 … 255

  var acc: array<array<f32, 4>, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += BK) {
    // Copy both tiles: value e of the tile goes to invocation e % 256; outside the bounds, zeros.
    for (var l = 0u; l < LOADS; l++) {
      let e = t + l * TS * TS;
      let ar = e / BK;
      let ak = e % BK;
      let am = m0 + ar;
      let akk = k0 + ak;
      As[e] = select(0.0, loadA(am, akk), am < d.x && akk < kEnd);
      let bk = e / BN;
      let bc = e % BN;
      let bkk = k0 + bk;
      let bn = n0 + bc;
      Bs[e] = select(0.0, loadB(bkk, bn), bkk < kEnd && bn < d.y);
    }
    workgroupBarrier();
    for (var kk = 0u; kk < BK; kk++) {
      var a: array<f32, 4>;
      var b: array<f32, 4>;
      for (var i = 0u; i < RT; i++) { a[i] = As[(lid.y + i * TS) * BK + kk]; }
      for (var j = 0u; j < RT; j++) { b[j] = Bs[kk * BN + lid.x + j * TS]; }
      for (var i = 0u; i < RT; i++) {
        for (var j = 0u; j < RT; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
      }
    }
    workgroupBarrier();   // the tiles are overwritten by the next step
  }
  for (var i = 0u; i < RT; i++) {
    let m = m0 + lid.y + i * TS;
    for (var j = 0u; j < RT; j++) {
      let n = n0 + lid.x + j * TS;
      if (m < d.x && n < d.y) { store(m, n, acc[i][j], slice); }
    }
  }
}
