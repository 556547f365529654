// Batch-norm backward, pass 1 of 2, four channels per workgroup with vec4 loads (C % 4 = 0): Σg and Σg·x̂
// (= dbeta, dgamma; g masked by y > 0 with the fused ReLU), then per channel the coefficients of the apply
// pass dx = A·g + B·x + D:
//   training: A = gamma·invstd, B = −A·invstd·Σg·x̂/R, D = −A·Σg/R − B·mean   (batch statistics depend on x)
//   eval:     A = gamma·invstd, B = D = 0                                     (fixed running statistics)
override RELU: bool = false;
override TRAIN: bool = true;
override C4: u32 = 1u;
override WG: u32 = 64u;

struct Params { R: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> y: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read> stats: array<vec4<f32>>;
@group(0) @binding(5) var<storage, read> gamma: array<vec4<f32>>;
@group(0) @binding(6) var<storage, read_write> out: array<vec4<f32>>;   // [Σg, Σg·x̂, A, B, D] × C

var<workgroup> a: array<vec4<f32>, WG>;
var<workgroup> b: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let q = wid.x;
  let mean = stats[q];
  let invstd = stats[C4 + q];
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  for (var r = lid; r < p.R; r += WG) {
    let i = r * C4 + q;
    var gi = g[i];
    if (RELU) { gi = select(vec4<f32>(0.0), gi, y[i] > vec4<f32>(0.0)); }
    sg += gi;
    sgx += gi * (x[i] - mean);
  }
  a[lid] = sg;
  b[lid] = sgx * invstd;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { a[lid] += a[lid + s]; b[lid] += b[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let A = gamma[q] * invstd;
    var B = vec4<f32>(0.0);
    var D = vec4<f32>(0.0);
    if (TRAIN) {
      let invR = 1.0 / f32(p.R);
      B = -A * invstd * b[0] * invR;
      D = -A * a[0] * invR - B * mean;
    }
    out[q] = a[0];
    out[C4 + q] = b[0];
    out[2u * C4 + q] = A;
    out[3u * C4 + q] = B;
    out[4u * C4 + q] = D;
  }
}
