// Batch-norm statistics, pass 1 of 2 (training), four channels per invocation (C % 4 = 0): the mean and the sum
// of squared deviations M2 of each chunk of `chunk` rows, one invocation per (chunk, channel quad).
// bn_stats4.wgsl combines the chunks in a fixed order (Chan et al.'s parallel variance). Why not one workgroup
// per channel with a tree sum in workgroup memory: the workgroup barriers of such a reduction slow CPU drivers'
// loops by 30–80% (docs/cpu-drivers.md), and it leaves as few workgroups as channel quads.
override C4: u32 = 1u;   // channels / 4
override WG: u32 = 64u;

struct Params { R: u32, chunk: u32, chunks: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> part: array<vec4<f32>>;   // [chunks, 2 (mean, M2), C4]

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let t = gid.x + gid.y * nwg.x * WG;
  if (t >= p.chunks * C4) { return; }
  let q = t % C4;
  let k = t / C4;
  let first = k * p.chunk;
  let last = min(first + p.chunk, p.R);
  var s = vec4<f32>(0.0);
  for (var r = first; r < last; r++) { s += x[r * C4 + q]; }
  let mean = s / f32(last - first);
  // Deviations from the chunk's own mean (a second pass over rows still in cache): no cancellation.
  var m2 = vec4<f32>(0.0);
  for (var r = first; r < last; r++) { let d = x[r * C4 + q] - mean; m2 += d * d; }
  part[2u * k * C4 + q] = mean;
  part[(2u * k + 1u) * C4 + q] = m2;
}
