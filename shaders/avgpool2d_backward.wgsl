// Average-pool gradient, one invocation per input element: its window's gradient / K², or 0 outside windows.
override WG: u32 = 64u;

struct Params { n: u32, H: u32, W: u32, C: u32, Ho: u32, Wo: u32, K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

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
  var v = 0.0;
  if (oy < p.Ho && ox < p.Wo) { v = g[((n * p.Ho + oy) * p.Wo + ox) * p.C + c] / f32(p.K * p.K); }
  dx[i] = v;
}
