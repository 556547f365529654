// Weights of conv2d_rows.wgsl shared through subgroupBroadcast (after subgroup8.wgsl; TN = 16, workgroups of 8).
// Lane i reads weights i and 8 + i of the row and every lane takes all 16 from the lanes that read them: two
// lane-by-lane loads and 16 register shuffles instead of 16 reads through the driver's load path.
@group(0) @binding(2) var<storage, read> Wb: array<f32>;

// The 16 weights of packed row `row` ([KH, KW, R] flattened), as vec4s; `lane` is the local invocation index.
fn rowWeights(row: u32, lane: u32) -> array<vec4<f32>, 4> {
  let lo = Wb[row * 16u + lane];
  let hi = Wb[row * 16u + 8u + lane];
  return array<vec4<f32>, 4>(lanes0to3(lo), lanes4to7(lo), lanes0to3(hi), lanes4to7(hi));
}
