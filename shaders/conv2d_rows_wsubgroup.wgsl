// Weights of conv2d_rows.wgsl shared through subgroupBroadcast (after subgroup8.wgsl; workgroups of 8).
// Lane i reads weights i and 8 + i of the row and every lane takes all TN from the lanes that read them: two
// lane-by-lane loads and TN register shuffles instead of TN reads through the driver's load path. With TN ≤ 8
// the second load is not compiled, and the shuffles of columns past TN are dead code.
@group(0) @binding(2) var<storage, read> Wb: array<f32>;

// The TN weights of packed row `row` ([KH, KW, R] flattened), as vec4s; `lane` is the local invocation index.
fn rowWeights(row: u32, lane: u32) -> array<vec4<f32>, 4> {
  let lo = Wb[row * TN + lane];
  var hi = 0.0;
  if (TN > 8u) { hi = Wb[row * TN + 8u + lane]; }
  return array<vec4<f32>, 4>(lanes0to3(lo), lanes4to7(lo), lanes0to3(hi), lanes4to7(hi));
}
