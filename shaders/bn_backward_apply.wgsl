// Batch-norm backward, pass 2 of 2: dx = gamma·invstd·(g − Σg/R − x̂·Σg·x̂/R) in training mode (the batch
// statistics depend on x), or dx = gamma·invstd·g in eval mode (fixed running statistics).
override RELU: bool = false;
override TRAIN: bool = true;
override C: u32 = 1u;   // channels, a constant so that i % C is cheap (see binary.wgsl)
override WG: u32 = 64u;

struct Params { n: u32, R: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read> dbeta: array<f32>;    // Σg
@group(0) @binding(6) var<storage, read> dgamma: array<f32>;   // Σg·x̂
@group(0) @binding(7) var<storage, read> gamma: array<f32>;
@group(0) @binding(8) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % C;
  var gi = g[i];
  if (RELU) { gi = select(0.0, gi, y[i] > 0.0); }
  let invstd = stats[C + c];
  var v = gi;
  if (TRAIN) {
    let xhat = (x[i] - stats[c]) * invstd;
    let invR = 1.0 / f32(p.R);
    v = gi - dbeta[c] * invR - xhat * dgamma[c] * invR;
  }
  dx[i] = gamma[c] * invstd * v;
}
