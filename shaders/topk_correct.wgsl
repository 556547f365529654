// Top-k accuracy without sorting: a row is correct at k when fewer than k logits are strictly greater than
// the label's logit. One invocation per row; writes 1/0 for k = 1 and for k = K. A row with a NaN or infinite
// logit is never correct (comparisons with NaN are false, so it would otherwise count as a perfect answer); the
// test is on the bits, which a compiler assuming finite math cannot fold away.
override WG: u32 = 64u;

struct Params { B: u32, C: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;   // [top1 (B), topK (B)]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.B) { return; }
  let y = labels[b];
  var above = p.C;   // an invalid label is never correct
  if (y >= 0 && u32(y) < p.C) {
    let zy = z[b * p.C + u32(y)];
    above = 0u;
    var nonFinite = false;
    for (var c = 0u; c < p.C; c++) {
      let v = z[b * p.C + c];
      above += select(0u, 1u, v > zy);
      nonFinite = nonFinite || (bitcast<u32>(v) & 0x7f800000u) == 0x7f800000u;
    }
    if (nonFinite) { above = p.C; }
  }
  out[b] = select(0.0, 1.0, above < 1u);
  out[p.B + b] = select(0.0, 1.0, above < p.K);
}
