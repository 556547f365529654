// Average-pool gradient, one invocation per input element: its window's gradient / K², or 0 outside windows.
// Geometry as override constants: divisions by constants are cheap on CPU drivers (see binary.wgsl).
override H: u32 = 2u;
override W: u32 = 2u;
override C: u32 = 1u;
override K: u32 = 2u;
override Ho: u32 = H / K;
override Wo: u32 = W / K;
override WG: u32 = 64u;

struct Params { n: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let c = i % C;
  let ix = (i / C) % W;
  let iy = (i / (C * W)) % H;
  let n = i / (C * W * H);
  let oy = iy / K;
  let ox = ix / K;
  var v = 0.0;
  if (oy < Ho && ox < Wo) { v = g[((n * Ho + oy) * Wo + ox) * C + c] / f32(K * K); }
  dx[i] = v;
}
