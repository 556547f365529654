// Weights of conv2d_rows.wgsl from a uniform buffer (where subgroups of 8 are not available).
@group(0) @binding(2) var<uniform> Wb: array<vec4<f32>, 4096>;   // 64 KB, the most a uniform binding may hold

// The TN weights of packed row `row` ([KH, KW, R] flattened), as vec4s.
fn rowWeights(row: u32, lane: u32) -> array<vec4<f32>, 4> {
  var b: array<vec4<f32>, 4>;
  for (var j = 0u; j < TN / 4u; j++) { b[j] = Wb[row * (TN / 4u) + j]; }
  return b;
}
