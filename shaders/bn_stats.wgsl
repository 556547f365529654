// Batch-norm statistics per channel of NHWC data ([R = N·H·W rows, C channels]): one workgroup per channel.
// Training: mean and biased variance of the batch (two passes over the channel, for accuracy), then the
// running averages are updated in place with the unbiased variance (PyTorch semantics).
// Eval: the statistics are the running averages. Either way stats = [mean (C), 1/sqrt(var + eps) (C)].
override TRAIN: bool = true;
override WG: u32 = 64u;

struct Params { R: u32, C: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> runMean: array<f32>;
@group(0) @binding(3) var<storage, read_write> runVar: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;

var<workgroup> part: array<f32, WG>;

fn workgroupSum(v: f32, lid: u32) -> f32 {
  part[lid] = v;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { part[lid] += part[lid + s]; }
    workgroupBarrier();
  }
  let total = part[0];
  workgroupBarrier();
  return total;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  if (!TRAIN) {
    if (lid == 0u) {
      stats[c] = runMean[c];
      stats[p.C + c] = inverseSqrt(runVar[c] + p.eps);
    }
    return;
  }
  var s = 0.0;
  for (var r = lid; r < p.R; r += WG) { s += x[r * p.C + c]; }
  let mean = workgroupSum(s, lid) / f32(p.R);
  var q = 0.0;
  for (var r = lid; r < p.R; r += WG) { let d = x[r * p.C + c] - mean; q += d * d; }
  let variance = workgroupSum(q, lid) / f32(p.R);
  if (lid == 0u) {
    stats[c] = mean;
    stats[p.C + c] = inverseSqrt(variance + p.eps);
    let unbiased = variance * f32(p.R) / f32(max(p.R, 2u) - 1u);
    runMean[c] = (1.0 - p.momentum) * runMean[c] + p.momentum * mean;
    runVar[c] = (1.0 - p.momentum) * runVar[c] + p.momentum * unbiased;
  }
}
