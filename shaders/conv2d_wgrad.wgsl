// Conv2d weight gradient as an implicit GEMM with split-K: dW[k, co] = Σ_pixel A[k, pixel] · dY[pixel, co] with
// k = (ky, kx, ci) and A[k, pixel] = X[n, oy·s − pad + ky, ox·s − pad + kx, ci]. The inner dimension (every
// output pixel of the batch) is long and the output small, so the pixels are cut into `slices` of `chunk`
// pixels; each slice writes its own partial result and a deterministic reduce pass (splitk_reduce.wgsl) sums them
// in a fixed order (no atomics).
// Layouts: X4 = X [N·H·W, Cin4·4] and dY4 = dY [N·Ho·Wo, C4·4], channels padded to a multiple of 4 (engine/kernels/
// conv2d/weight_grad.ts packs them when they are not), partial [slices, KH·KW·Cin, Cout].
//
// Register blocking as in matmul.wgsl (see there for why): an invocation owns TM rows k × TN output channels.
// Its rows come in quads of 4 input channels of one tap, which are 4 neighbouring floats of X: one vec4 load
// gives 4 rows' values, and dY comes in vec4s of 4 channels.
// The rows are few (KH·KW·Cin, e.g. 144) and the pixels many, so invocations are not laid out over rows alone:
// invocation number `lane` (across the whole dispatch) takes row block lane % RB of slice lane / RB. Every SIMD
// lane then has real work, whatever the number of rows.
override TM: u32 = 16u;   // rows k per invocation: a multiple of 4, at most 16
override TN: u32 = 16u;   // output channels per invocation: a multiple of 4, at most 32
override WG: u32 = 8u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, chunk: u32,   // chunk: output pixels per slice
  Cin4: u32, C4: u32, RB: u32, slices: u32,     // vec4s per X4 / dY4 row; row blocks (of TM rows); slices
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> dY4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let lane = wid.x * WG + lid;
  let rb = lane % p.RB;
  let slice = lane / p.RB;   // lanes past the last slice recompute it and store nothing
  let col4 = wid.y * (TN / 4u);
  let quads = p.KH * p.KW * p.Cin4;   // row quads in all: (tap, 4 input channels)
  var acc: array<array<vec4<f32>, 8>, 16>;
  var dy: array<i32, 4>;   // per quad: tap offsets ky − pad, kx − pad, and the vec4 of channels
  var dx: array<i32, 4>;
  var c4: array<u32, 4>;
  for (var g = 0u; g < TM / 4u; g++) {
    let qd = min(rb * (TM / 4u) + g, quads - 1u);
    let tap = qd / p.Cin4;
    c4[g] = qd % p.Cin4;
    dx[g] = i32(tap % p.KW) - i32(p.pad);
    dy[g] = i32(tap / p.KW) - i32(p.pad);
  }
  let P = p.N * p.Ho * p.Wo;
  let start = min(slice, p.slices - 1u) * p.chunk;
  let end = min(start + p.chunk, P);
  // Walk the slice's pixels with counters rather than dividing q in the loop: integer division is not a SIMD
  // instruction on CPUs and would cost more than the FMAs.
  var ox = start % p.Wo;
  var oy = (start / p.Wo) % p.Ho;
  var xImg = (start / (p.Wo * p.Ho)) * p.H;   // n·H: first input row of this image
  for (var q = start; q < end; q++) {
    var b: array<vec4<f32>, 8>;
    for (var j = 0u; j < TN / 4u; j++) { b[j] = dY4[q * p.C4 + min(col4 + j, p.C4 - 1u)]; }
    let iyBase = i32(oy * p.stride);
    let ixBase = i32(ox * p.stride);
    for (var g = 0u; g < TM / 4u; g++) {
      let iy = iyBase + dy[g];
      let ix = ixBase + dx[g];
      let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
      let pix = (xImg + u32(max(iy, 0))) * p.W + u32(max(ix, 0));
      let a4 = select(vec4<f32>(0.0), X4[pix * p.Cin4 + c4[g]], inside);   // 4 rows (channels) at this pixel
      for (var e = 0u; e < 4u; e++) {
        let a = vec4<f32>(a4[e]);
        for (var j = 0u; j < TN / 4u; j++) { acc[4u * g + e][j] = fma(a, b[j], acc[4u * g + e][j]); }
      }
    }
    ox++;
    if (ox == p.Wo) {
      ox = 0u;
      oy++;
      if (oy == p.Ho) { oy = 0u; xImg += p.H; }
    }
  }
  if (slice >= p.slices) { return; }
  let M = p.KH * p.KW * p.Cin;
  let base = slice * M * p.Cout;
  for (var i = 0u; i < TM; i++) {
    let qd = rb * (TM / 4u) + i / 4u;
    let ci = 4u * (qd % p.Cin4) + i % 4u;
    if (qd >= quads || ci >= p.Cin) { continue; }
    let r = (qd / p.Cin4) * p.Cin + ci;   // row k = tap·Cin + ci
    for (var j = 0u; j < TN; j++) {
      let c = 4u * col4 + j;
      if (c < p.Cout) { partial[base + r * p.Cout + c] = acc[i][j / 4u][j % 4u]; }
    }
  }
}
