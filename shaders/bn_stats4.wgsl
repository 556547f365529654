// Batch-norm statistics, pass 2 of 2, four channels per invocation (C % 4 = 0). Training: combines the chunks'
// means and M2 from bn_stats4_chunks.wgsl in chunk order (Chan et al.: merging a chunk of n_b rows into n rows
// so far moves the mean by δ·n_b/(n + n_b) and adds M2_b + δ²·n·n_b/(n + n_b) to M2, δ = mean_b − mean), and
// updates the running averages (PyTorch semantics: unbiased variance); eval mode takes the statistics from them.
// Writes stats = [mean (C), 1/sqrt(var + eps) (C), scale = gamma·invstd (C), shift = beta − mean·scale (C)],
// so that the apply pass is a single multiply-add per element.
override TRAIN: bool = true;
override C4: u32 = 1u;   // channels / 4
override WG: u32 = 64u;

struct Params { R: u32, chunk: u32, chunks: u32, eps: f32, momentum: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;   // [chunks, 2 (mean, M2), C4]; unused in eval mode
@group(0) @binding(2) var<storage, read_write> runMean: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> runVar: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> gamma: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> beta: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> stats: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let q = gid.x;
  if (q >= C4) { return; }
  var mean: vec4<f32>;
  var invstd: vec4<f32>;
  if (TRAIN) {
    var n = 0.0;
    var m = vec4<f32>(0.0);
    var m2 = vec4<f32>(0.0);
    for (var k = 0u; k < p.chunks; k++) {
      let nb = f32(min(p.chunk, p.R - k * p.chunk));
      let d = part[2u * k * C4 + q] - m;
      let merged = n + nb;
      m += d * (nb / merged);
      m2 += part[(2u * k + 1u) * C4 + q] + d * d * (n * nb / merged);
      n = merged;
    }
    mean = m;
    let variance = m2 / f32(p.R);
    invstd = inverseSqrt(variance + p.eps);
    let unbiased = m2 / f32(max(p.R, 2u) - 1u);
    runMean[q] = (1.0 - p.momentum) * runMean[q] + p.momentum * mean;
    runVar[q] = (1.0 - p.momentum) * runVar[q] + p.momentum * unbiased;
  } else {
    mean = runMean[q];
    invstd = inverseSqrt(runVar[q] + p.eps);
  }
  let scale = gamma[q] * invstd;
  stats[q] = mean;
  stats[C4 + q] = invstd;
  stats[2u * C4 + q] = scale;
  stats[3u * C4 + q] = beta[q] - mean * scale;
}
