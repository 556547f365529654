// Average pooling, K×K windows with stride K over NHWC data (floor for sizes that do not divide).
override WG: u32 = 64u;

struct Params { n: u32, H: u32, W: u32, C: u32, Ho: u32, Wo: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % p.C;
  let ox = (i / p.C) % p.Wo;
  let oy = (i / (p.C * p.Wo)) % p.Ho;
  let n = i / (p.C * p.Wo * p.Ho);
  var s = 0.0;
  for (var ky = 0u; ky < p.K; ky++) {
    for (var kx = 0u; kx < p.K; kx++) {
      s += x[((n * p.H + oy * p.K + ky) * p.W + ox * p.K + kx) * p.C + c];
    }
  }
  y[i] = s / f32(p.K * p.K);
}
