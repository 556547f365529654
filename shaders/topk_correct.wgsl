// Top-k accuracy without sorting: a row is correct at k when fewer than k logits are strictly greater than
// the label's logit. One invocation per row; writes 1/0 for k = 1 and for k = K.
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
    for (var c = 0u; c < p.C; c++) { above += select(0u, 1u, z[b * p.C + c] > zy); }
  }
  out[b] = select(0.0, 1.0, above < 1u);
  out[p.B + b] = select(0.0, 1.0, above < p.K);
}
