// Fused temperature softmax + KL divergence, one invocation per row:
// loss[b] = Σ_c p_t[c]·(log p_t[c] − log p_s[c]) with p = softmax(z / T), scaled by lossScale (T²/B for
// "batchmean", T²/(B·C) for element-wise mean); grad wrt z_s = (p_s − p_t) · lossScale / T. The teacher's
// logits get no gradient: trainers are frozen.
override WG: u32 = 64u;

struct Params { B: u32, C: u32, invT: f32, lossScale: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> zs: array<f32>;
@group(0) @binding(2) var<storage, read> zt: array<f32>;
@group(0) @binding(3) var<storage, read_write> loss: array<f32>;
@group(0) @binding(4) var<storage, read_write> grad: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let b = gid.x;
  if (b >= p.B) { return; }
  let row = b * p.C;
  var ms = -3.4e38;
  var mt = -3.4e38;
  for (var c = 0u; c < p.C; c++) {
    ms = max(ms, zs[row + c] * p.invT);
    mt = max(mt, zt[row + c] * p.invT);
  }
  var ss = 0.0;
  var st = 0.0;
  for (var c = 0u; c < p.C; c++) {
    ss += exp(zs[row + c] * p.invT - ms);
    st += exp(zt[row + c] * p.invT - mt);
  }
  let lss = log(ss);
  let lst = log(st);
  var kl = 0.0;
  for (var c = 0u; c < p.C; c++) {
    let logPs = zs[row + c] * p.invT - ms - lss;
    let logPt = zt[row + c] * p.invT - mt - lst;
    let pt = exp(logPt);
    kl += pt * (logPt - logPs);
    grad[row + c] = (exp(logPs) - pt) * p.lossScale * p.invT;
  }
  loss[b] = kl * p.lossScale;
}
