// Batch-norm backward, pass 1 of 2: per channel, Σ g and Σ g·x̂ (x̂ = (x − mean)·invstd), which are also
// dbeta and dgamma. With the fused ReLU, g is first masked by y > 0. One workgroup per channel.
override RELU: bool = false;
override WG: u32 = 64u;

struct Params { R: u32, C: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x: array<f32>;
@group(0) @binding(3) var<storage, read> y: array<f32>;
@group(0) @binding(4) var<storage, read> stats: array<f32>;
@group(0) @binding(5) var<storage, read_write> dbeta: array<f32>;    // Σg
@group(0) @binding(6) var<storage, read_write> dgamma: array<f32>;   // Σg·x̂

var<workgroup> a: array<f32, WG>;
var<workgroup> b: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x;
  let mean = stats[c];
  let invstd = stats[p.C + c];
  var sg = 0.0;
  var sgx = 0.0;
  for (var r = lid; r < p.R; r += WG) {
    let i = r * p.C + c;
    var gi = g[i];
    if (RELU) { gi = select(0.0, gi, y[i] > 0.0); }
    sg += gi;
    sgx += gi * (x[i] - mean) * invstd;
  }
  a[lid] = sg;
  b[lid] = sgx;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (lid < s) { a[lid] += a[lid + s]; b[lid] += b[lid + s]; }
    workgroupBarrier();
  }
  if (lid == 0u) { dbeta[c] = a[0]; dgamma[c] = b[0]; }
}
