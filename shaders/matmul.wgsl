// C[M,N] = A[M,K] · B[K,N] for any strides (so transposed operands cost nothing extra), register-blocked:
// each invocation accumulates a TM×TN block of C in vec4 registers.
//
// Mapping chosen for CPU Vulkan drivers (llvmpipe runs 8 invocations as the lanes of one SIMD vector):
// the invocations of a workgroup cover consecutive row blocks of ONE column block, so every lane reads the
// same B addresses (uniform loads) and only the TM loads of A per k step are gathers; FMAs per gathered
// load grow with TN. No shared memory: on CPU drivers barriers cost more than they save (engine-notes.md).
override TM: u32 = 4u;    // rows of C per invocation
override TN: u32 = 16u;   // columns of C per invocation: a multiple of 4, at most 16
override WG: u32 = 64u;   // invocations per workgroup
const MAX_ACC = 64u;      // (16 × 16) / 4 vec4 accumulators

struct Params {
  M: u32, N: u32, K: u32, batchA: u32,
  sam: u32, sak: u32, sbk: u32, sbn: u32,   // element strides of A (row, k) and B (k, col)
  batchB: u32, batchC: u32, _p0: u32, _p1: u32,
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let row0 = (wid.x * WG + lid) * TM;
  let col0 = wid.y * TN;
  let aBase = wid.z * p.batchA;
  let bBase = wid.z * p.batchB;
  var acc: array<vec4<f32>, MAX_ACC>;
  for (var i = 0u; i < TM * TN / 4u; i++) { acc[i] = vec4<f32>(0.0); }
  // Clamp out-of-range rows and columns to the last valid one instead of branching in the k loop;
  // their results are simply not stored.
  var aRow: array<u32, 16>;
  for (var i = 0u; i < TM; i++) { aRow[i] = aBase + min(row0 + i, p.M - 1u) * p.sam; }
  var bCol: array<u32, 16>;
  for (var j = 0u; j < TN; j++) { bCol[j] = bBase + min(col0 + j, p.N - 1u) * p.sbn; }
  for (var k = 0u; k < p.K; k++) {
    let ak = k * p.sak;
    let bk = k * p.sbk;
    var b: array<vec4<f32>, 4>;
    for (var j = 0u; j < TN / 4u; j++) {
      b[j] = vec4<f32>(B[bk + bCol[4u * j]], B[bk + bCol[4u * j + 1u]], B[bk + bCol[4u * j + 2u]], B[bk + bCol[4u * j + 3u]]);
    }
    for (var i = 0u; i < TM; i++) {
      let a = A[aRow[i] + ak];
      for (var j = 0u; j < TN / 4u; j++) {
        acc[i * (TN / 4u) + j] = fma(vec4<f32>(a), b[j], acc[i * (TN / 4u) + j]);
      }
    }
  }
  let cBase = wid.z * p.batchC;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = col0 + j;
      if (c < p.N) { C[cBase + r * p.N + c] = acc[i * (TN / 4u) + j / 4u][j % 4u]; }
    }
  }
}
