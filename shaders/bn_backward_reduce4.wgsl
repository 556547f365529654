// Batch-norm backward, pass 2 of 3, four channels per invocation (C % 4 = 0): sums the chunks of
// bn_backward_chunks4.wgsl in order into Σg and Σg·x̂ (= dbeta, dgamma, written to their own tensors), then per channel the coefficients of the
// apply pass dx = A·g + B·x + D:
//   training: A = gamma·invstd, B = −A·invstd·Σg·x̂/R, D = −A·Σg/R − B·mean   (batch statistics depend on x)
//   eval:     A = gamma·invstd, B = D = 0                                     (fixed running statistics)
override TRAIN: bool = true;
override C4: u32 = 1u;
override WG: u32 = 64u;

struct Params { R: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> part: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> gamma: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> dbeta: array<vec4<f32>>;    // Σg
@group(0) @binding(5) var<storage, read_write> dgamma: array<vec4<f32>>;   // Σg·x̂
@group(0) @binding(6) var<storage, read_write> coef: array<vec4<f32>>;     // [A, B, D] × C

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let q = gid.x;
  if (q >= C4) { return; }
  let mean = stats[q];
  let invstd = stats[C4 + q];
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  for (var k = 0u; k < p.chunks; k++) {
    sg += part[2u * k * C4 + q];
    sgx += part[(2u * k + 1u) * C4 + q];
  }
  sgx *= invstd;
  let A = gamma[q] * invstd;
  var B = vec4<f32>(0.0);
  var D = vec4<f32>(0.0);
  if (TRAIN) {
    let invR = 1.0 / f32(p.R);
    B = -A * invstd * sgx * invR;
    D = -A * sg * invR - B * mean;
  }
  dbeta[q] = sg;
  dgamma[q] = sgx;
  coef[q] = A;
  coef[C4 + q] = B;
  coef[2u * C4 + q] = D;
}
