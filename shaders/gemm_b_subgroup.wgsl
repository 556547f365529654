// The right-hand operand of the GEMM kernels shared through subgroupBroadcast (after subgroup8.wgsl; TN a
// multiple of 8). Lane i of each subgroup reads columns i, 8 + i, … of the block and every lane takes all TN
// from the lanes that read them: TN/8 lane-by-lane loads per lane instead of TN/4 vec4 reads at an address all
// lanes share, which llvmpipe also does lane by lane (matmul.wgsl).
@group(0) @binding(2) var<storage, read> B: array<f32>;

// TN/4 vec4s of row `row` (rows of n4 vec4s) from vec4 column col4, clamped to the last one; `lane` is the
// invocation's lane in its subgroup (local invocation index mod 8).
fn rowB(row: u32, col4: u32, n4: u32, lane: u32) -> array<vec4<f32>, 8> {
  return rowBAt(row * n4, col4, n4, lane);
}

// The same for a row of n4 vec4s that starts at vec4 `start` (a window of a wider row: conv2d_wgrad_rows.wgsl).
fn rowBAt(start: u32, col4: u32, n4: u32, lane: u32) -> array<vec4<f32>, 8> {
  var b: array<vec4<f32>, 8>;
  for (var t = 0u; t < TN / 8u; t++) {
    let v = B[start * 4u + min(col4 * 4u + 8u * t + lane, n4 * 4u - 1u)];
    b[2u * t] = lanes0to3(v);
    b[2u * t + 1u] = lanes4to7(v);
  }
  return b;
}
