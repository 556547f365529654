// Pooling gradient four channels at a time, one window per vector (C % 4 = 0 and windows tiling the input
// exactly): vector i is window (n, oy, ox) × channels 4q…4q+3 of g, and writes the window's K² vectors of dx.
// Max pooling gives the gradient to the window's first maximum per channel (the forward's tie rule: scanning
// ky, then kx, a later equal value does not win) and 0 to the rest; average pooling gives each element g / K².
// Every dx vector is written by exactly one invocation, from contiguous vec4 loads — where the element-wise
// kernel (pool2d_backward.wgsl, for the other shapes) gathers a window of scalars for every element it writes.
// Launched by vec4_each.wgsl, compiled in front of this file.
override MAX: bool = true;
override Ho: u32 = 1u;
override Wo: u32 = 1u;
override C4: u32 = 1u;  // channels / 4
override K: u32 = 2u;

struct Params { windows: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;   // the forward's input (read by max pooling only)
@group(0) @binding(2) var<storage, read> g: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> dx: array<vec4<f32>>;

fn vectors() -> u32 { return p.windows * C4; }

fn store(i: u32) {
  let q = i % C4;
  let ox = (i / C4) % Wo;
  let oy = (i / (C4 * Wo)) % Ho;
  let n = i / (C4 * Wo * Ho);
  let W4 = Wo * K * C4;   // vectors per input row
  let first = ((n * Ho + oy) * K * Wo + ox) * K * C4 + q;   // input vector (n, oy·K, ox·K, q)
  let gi = g[i];
  if (!MAX) {
    let share = gi / f32(K * K);
    for (var ky = 0u; ky < K; ky++) {
      for (var kx = 0u; kx < K; kx++) { dx[first + ky * W4 + kx * C4] = share; }
    }
    return;
  }
  var best = vec4<f32>(-3.4e38);
  var arg = vec4<u32>(0u);
  for (var ky = 0u; ky < K; ky++) {
    for (var kx = 0u; kx < K; kx++) {
      let v = x[first + ky * W4 + kx * C4];
      let better = v > best;
      best = select(best, v, better);
      arg = select(arg, vec4<u32>(ky * K + kx), better);
    }
  }
  for (var ky = 0u; ky < K; ky++) {
    for (var kx = 0u; kx < K; kx++) {
      dx[first + ky * W4 + kx * C4] = select(vec4<f32>(0.0), gi, arg == vec4<u32>(ky * K + kx));
    }
  }
}
