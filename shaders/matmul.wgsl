// C[M,N] = A[M,K] · B[K,N] as a sum of outer products: at each k, a column of A times a row of B. Each invocation
// accumulates a TM×TN block of C in vec4 registers. Both operands come k-major, with rows padded to a multiple of
// 4 floats so that they load as vec4s: At4 = Aᵀ [K][M4·4] and B4 = B [K][N4·4]. engine/kernels/matmul.ts packs them
// (pack_vec4.wgsl) when the caller's layout differs: O(M·K + K·N) work next to the multiply's O(M·N·K).
//
// Why this shape: on CPU drivers a storage-buffer load costs about a dozen instructions per lane and an 8-wide
// FMA about four, so speed follows FMAs per load — TM·TN per k for TM/4 + TN/4 vec4 loads. B's row is the same
// for the whole workgroup (read through rowB: gemm_b_subgroup.wgsl or gemm_b_storage.wgsl, compiled in front);
// the accumulators are vec4s over 4 columns; lane `lid` owns row quads q0 + g·WG, so neighbouring lanes read
// neighbouring 16 bytes; no workgroup memory. The measurements: docs/cpu-drivers.md, "The matmul kernel".
override TM: u32 = 16u;   // rows of C per invocation: a multiple of 4, at most 16
override TN: u32 = 16u;   // columns of C per invocation: a multiple of 4, at most 32
override WG: u32 = 8u;    // invocations per workgroup

struct Params {
  M: u32, N: u32, K: u32,
  M4: u32, N4: u32,   // row lengths of At4 and B4 in vec4s
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> At4: array<vec4<f32>>;
// binding 2: the right-hand operand B4, read through rowB (gemm_b_storage.wgsl or gemm_b_subgroup.wgsl, compiled in front)
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let q0 = wid.x * WG * (TM / 4u) + lid;   // first row quad of this invocation
  let col4 = wid.y * (TN / 4u);            // first vec4 column of this block
  var acc: array<array<vec4<f32>, 8>, 16>;
  // Out-of-range quads and columns are clamped to the last valid one instead of branching in the k loop;
  // their results are simply not stored.
  var quad: array<u32, 4>;
  for (var g = 0u; g < TM / 4u; g++) { quad[g] = min(q0 + g * WG, p.M4 - 1u); }
  for (var k = 0u; k < p.K; k++) {
    let b = rowB(k, col4, p.N4, lid % 8u);
    for (var g = 0u; g < TM / 4u; g++) {
      let a4 = At4[k * p.M4 + quad[g]];   // rows 4q..4q+3 at this k
      for (var e = 0u; e < 4u; e++) {
        let a = vec4<f32>(a4[e]);
        for (var j = 0u; j < TN / 4u; j++) { acc[4u * g + e][j] = fma(a, b[j], acc[4u * g + e][j]); }
      }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let r = 4u * (q0 + (i / 4u) * WG) + i % 4u;
    if (r >= p.M) { continue; }
    for (var j = 0u; j < TN; j++) {
      let c = 4u * col4 + j;
      if (c < p.N) { C[r * p.N + c] = acc[i][j / 4u][j % 4u]; }
    }
  }
}
