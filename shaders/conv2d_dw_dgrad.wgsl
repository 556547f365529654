// The input gradient of a strided depthwise convolution (stride-1 ones run as conv2d_dw.wgsl with FLIP):
//   dX[n, iy, ix, c] = Σ dY[n, (iy + pad − ky) / S, (ix + pad − kx) / S, c] · W[ky, kx, c]
// over the taps (ky, kx) that reach (iy, ix): those where both divisions are exact and land inside dY. One output
// pixel and one block of 4 channels per invocation. Operands through conv2d_dw_vec4.wgsl or conv2d_dw_scalar.wgsl:
// a = dY [N, Ho, Wo, C], b = W [KH·KW, C], out = dX [N, H, W, C].
override KH: u32 = 3u;
override KW: u32 = 3u;
override STRIDE: u32 = 2u;
override WG: u32 = 64u;

struct Params { N: u32, H: u32, W: u32, C: u32, C4: u32, Ho: u32, Wo: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.N * p.H * p.W * p.C4) { return; }
  let q = i % p.C4;
  let ix = (i / p.C4) % p.W;
  let iy = (i / (p.C4 * p.W)) % p.H;
  let n = i / (p.C4 * p.W * p.H);
  var acc = vec4<f32>(0.0);
  for (var ky = 0u; ky < KH; ky++) {
    let ty = i32(iy + p.pad) - i32(ky);   // STRIDE · (the dY row), when it divides
    let oy = u32(max(ty, 0)) / STRIDE;
    let rowOk = ty >= 0 && u32(ty) % STRIDE == 0u && oy < p.Ho;
    for (var kx = 0u; kx < KW; kx++) {
      let tx = i32(ix + p.pad) - i32(kx);
      let ox = u32(max(tx, 0)) / STRIDE;
      if (rowOk && tx >= 0 && u32(tx) % STRIDE == 0u && ox < p.Wo) {
        acc = fma(loadA((n * p.Ho + oy) * p.Wo + ox, q), loadB(ky * KW + kx, q), acc);
      }
    }
  }
  storeOut(i / p.C4, q, acc);
}
