// Fused softmax + cross-entropy with integer labels, one invocation per row of logits [B, C]:
// loss[b] = logsumexp(z_b) − z_b[y_b]; grad[b, c] = (softmax(z_b)[c] − [c = y_b]) · gradScale;
// correct[b] = 1 when argmax(z_b) = y_b (first maximum), so accuracy needs no extra pass or readback.
// A label outside [0, C) yields a NaN loss for that row rather than reading out of bounds.
override WG: u32 = 64u;

struct Params { B: u32, C: u32, gradScale: f32, nanBits: u32 }   // nanBits = 0x7fc00000 (a quiet NaN)
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> labels: array<i32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;
@group(0) @binding(5) var<storage, read_write> correct: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.B) { return; }
  let row = b * p.C;
  var m = z[row];
  var arg = 0u;
  for (var c = 1u; c < p.C; c++) {
    let v = z[row + c];
    if (v > m) { m = v; arg = c; }
  }
  var s = 0.0;
  for (var c = 0u; c < p.C; c++) { s += exp(z[row + c] - m); }
  let y = labels[b];
  let valid = y >= 0 && u32(y) < p.C;
  let yc = u32(clamp(y, 0, i32(p.C) - 1));
  loss[b] = select(bitcast<f32>(p.nanBits), m + log(s) - z[row + yc], valid);
  correct[b] = select(0.0, 1.0, valid && arg == yc);
  let inv = 1.0 / s;
  for (var c = 0u; c < p.C; c++) {
    let onehot = select(0.0, 1.0, c == yc);
    grad[row + c] = (exp(z[row + c] - m) * inv - onehot) * p.gradScale;
  }
}
