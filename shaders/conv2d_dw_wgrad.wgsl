// The weight gradient of a depthwise convolution, a sum over every output pixel:
//   dW[ky, kx, c] = Σ_{n, oy, ox} X[n, S·oy − pad + ky, S·ox − pad + kx, c] · dY[n, oy, ox, c]
// split over slices of output rows (n, oy): each invocation sums one slice for one block of 4 channels, all
// KH·KW taps at once (each dY value is loaded once for all of them), and writes its partial sums; a second pass
// adds the slices in a fixed order (splitk_reduce.wgsl: deterministic, no atomics). Operands through
// conv2d_dw_vec4.wgsl or conv2d_dw_scalar.wgsl: a = X [N, H, W, C], b = dY [N, Ho, Wo, C],
// out = the partial sums [slices, KH·KW, C].
override KH: u32 = 3u;
override KW: u32 = 3u;       // KH·KW ≤ KMAX
override STRIDE: u32 = 1u;
override WG: u32 = 64u;

const KMAX = 49u;

struct Params { N: u32, H: u32, W: u32, C: u32, C4: u32, Ho: u32, Wo: u32, pad: i32, rowsPerSlice: u32, slices: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.slices * p.C4) { return; }
  let q = i % p.C4;
  let slice = i / p.C4;
  var acc: array<vec4<f32>, KMAX>;
  let first = slice * p.rowsPerSlice;
  let last = min(first + p.rowsPerSlice, p.N * p.Ho);
  for (var r = first; r < last; r++) {
    let oy = r % p.Ho;
    let n = r / p.Ho;
    for (var ox = 0u; ox < p.Wo; ox++) {
      let g = loadB(r * p.Wo + ox, q);
      for (var ky = 0u; ky < KH; ky++) {
        let iy = i32(oy * STRIDE + ky) - p.pad;
        let rowBase = (n * p.H + u32(max(iy, 0))) * p.W;
        for (var kx = 0u; kx < KW; kx++) {
          let ix = i32(ox * STRIDE + kx) - p.pad;
          if (iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W)) {
            acc[ky * KW + kx] = fma(loadA(rowBase + u32(ix), q), g, acc[ky * KW + kx]);
          }
        }
      }
    }
  }
  for (var t = 0u; t < KH * KW; t++) { storeOut(slice * KH * KW + t, q, acc[t]); }
}
