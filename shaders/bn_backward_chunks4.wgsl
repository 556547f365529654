// Batch-norm backward, pass 1 of 3, four channels per invocation (C % 4 = 0): Σg and Σg·(x − mean) over each
// chunk of `chunk` rows (with the fused ReLU, g masked where the forward output y was > 0), one invocation per
// (chunk, channel quad); bn_backward_reduce4.wgsl sums the chunks in a fixed order (why not a workgroup tree sum:
// bn_stats4_chunks.wgsl).
// The ReLU mask is recomputed from x with the forward's own expression, fma(x, scale, shift) > 0 (bn_apply4.wgsl),
// instead of loading y: one lane-by-lane vec4 load fewer per element, a third of this pass on llvmpipe.
override RELU: bool = false;
override C4: u32 = 1u;
override WG: u32 = 64u;

struct Params { R: u32, chunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> stats: array<vec4<f32>>;   // [mean, invstd, scale, shift] × C
@group(0) @binding(4) var<storage, read_write> part: array<vec4<f32>>;   // [chunks, 2 (Σg, Σg·(x − mean)), C4]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.chunks * C4) { return; }
  let q = t % C4;
  let k = t / C4;
  let mean = stats[q];
  let scale = stats[2u * C4 + q];
  let shift = stats[3u * C4 + q];
  var sg = vec4<f32>(0.0);
  var sgx = vec4<f32>(0.0);
  for (var r = k * p.chunk; r < min((k + 1u) * p.chunk, p.R); r++) {
    let i = r * C4 + q;
    let xi = x[i];
    var gi = g[i];
    if (RELU) { gi = select(vec4<f32>(0.0), gi, fma(xi, scale, shift) > vec4<f32>(0.0)); }
    sg += gi;
    sgx += gi * (xi - mean);
  }
  part[2u * k * C4 + q] = sg;
  part[(2u * k + 1u) * C4 + q] = sgx;
}
