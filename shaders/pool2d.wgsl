// Pooling with K×K windows and stride K over NHWC data (floor for sizes that do not divide): the maximum
// (MAX) or the average of each window. For max pooling, ties go to the first maximum in row-major window
// order; pool2d_backward.wgsl recomputes the same choice, so no argmax buffer is kept.
// Geometry as override constants: divisions by constants are cheap on CPU drivers (see index4.wgsl).
override MAX: bool = true;
override H: u32 = 2u;
override W: u32 = 2u;
override C: u32 = 1u;
override K: u32 = 2u;
override Ho: u32 = H / K;
override Wo: u32 = W / K;
override WG: u32 = 64u;

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % C;
  let ox = (i / C) % Wo;
  let oy = (i / (C * Wo)) % Ho;
  let n = i / (C * Wo * Ho);
  var best = -3.4e38;
  var total = 0.0;
  for (var ky = 0u; ky < K; ky++) {
    for (var kx = 0u; kx < K; kx++) {
      let v = x[((n * H + oy * K + ky) * W + ox * K + kx) * C + c];
      best = max(best, v);
      total += v;
    }
  }
  y[i] = select(total / f32(K * K), best, MAX);
}
