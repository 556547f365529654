// Pooling gradient, one invocation per input element (gathering avoids scatter conflicts and atomics):
// max pooling passes its window's gradient to the window's first maximum (the forward's tie rule) and 0 to
// the rest; average pooling gives every element of the window gradient / K². Elements outside every window
// (sizes that do not divide by K) get 0.
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
@group(0) @binding(1) var<storage, read> x: array<f32>;   // the forward's input (read by max pooling only)
@group(0) @binding(2) var<storage, read> g: array<f32>;
@group(0) @binding(3) var<storage, read_write> dx: array<f32>;

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
  var out = 0.0;
  if (oy < Ho && ox < Wo) {
    let gi = g[((n * Ho + oy) * Wo + ox) * C + c];
    if (MAX) {
      var best = -3.4e38;
      var arg = 0u;
      for (var ky = 0u; ky < K; ky++) {
        for (var kx = 0u; kx < K; kx++) {
          let v = x[((n * H + oy * K + ky) * W + ox * K + kx) * C + c];
          if (v > best) { best = v; arg = ky * K + kx; }
        }
      }
      out = select(0.0, gi, arg == (iy - oy * K) * K + (ix - ox * K));
    } else {
      out = gi / f32(K * K);
    }
  }
  dx[i] = out;
}
