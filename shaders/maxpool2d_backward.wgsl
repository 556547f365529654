// Max-pool gradient, one invocation per input element: it receives its window's gradient if it is that
// window's first maximum (the forward's tie rule), else 0. Gathering avoids scatter conflicts and atomics.
override WG: u32 = 64u;

struct Params { n: u32, H: u32, W: u32, C: u32, Ho: u32, Wo: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % p.C;
  let ix = (i / p.C) % p.W;
  let iy = (i / (p.C * p.W)) % p.H;
  let n = i / (p.C * p.W * p.H);
  let oy = iy / p.K;
  let ox = ix / p.K;
  var out = 0.0;
  if (oy < p.Ho && ox < p.Wo) {
    var best = -3.4e38;
    var arg = 0u;
    for (var ky = 0u; ky < p.K; ky++) {
      for (var kx = 0u; kx < p.K; kx++) {
        let v = x[((n * p.H + oy * p.K + ky) * p.W + ox * p.K + kx) * p.C + c];
        if (v > best) { best = v; arg = ky * p.K + kx; }
      }
    }
    if (arg == (iy - oy * p.K) * p.K + (ix - ox * p.K)) {
      out = g[((n * p.Ho + oy) * p.Wo + ox) * p.C + c];
    }
  }
  dx[i] = out;
}
