// The right-hand operand of the GEMM kernels (matmul.wgsl, conv2d_fwd.wgsl, conv2d_dgrad.wgsl) read from a
// storage buffer in vec4s: every invocation of a workgroup reads the same TN columns.
@group(0) @binding(2) var<storage, read> B: array<vec4<f32>>;

// TN/4 vec4s of row `row` (rows of n4 vec4s) from vec4 column col4, clamped to the last one; `lane` is unused here.
fn rowB(row: u32, col4: u32, n4: u32, lane: u32) -> array<vec4<f32>, 8> {
  return rowBAt(row * n4, col4, n4, lane);
}

// The same for a row of n4 vec4s that starts at vec4 `start` (a window of a wider row: conv2d_wgrad_rows.wgsl).
fn rowBAt(start: u32, col4: u32, n4: u32, lane: u32) -> array<vec4<f32>, 8> {
  var b: array<vec4<f32>, 8>;
  for (var j = 0u; j < TN / 4u; j++) { b[j] = B[start + min(col4 + j, n4 - 1u)]; }
  return b;
}
