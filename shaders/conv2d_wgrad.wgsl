// Conv2d weight gradient as an implicit GEMM with split-K: dW[k, co] = Σ_pixel A[k, pixel] · dY[pixel, co] with
// k = (ky, kx, ci) and A[k, pixel] = X[n, oy·s − pad + ky, ox·s − pad + kx, ci]. The inner dimension (every
// output pixel of the batch) is long and the output small, so workgroup z takes one of `splits` slices of the
// pixels and writes its own partial result; a deterministic reduce pass sums the slices (no atomics).
// Layouts: X [N, H, W, Cin], dY [N, Ho, Wo, Cout], partial [splits, KH·KW·Cin, Cout].
override TM: u32 = 4u;
override TN: u32 = 16u;
override WG: u32 = 64u;
const MAX_TM = 16u;

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  KW: u32, stride: u32, pad: u32, chunk: u32,   // pixels per split
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> dY: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let M = p.KH * p.KW * p.Cin;
  let row0 = wid.x * WG * TM + lid;
  let col0 = wid.y * TN;
  var acc: array<vec4<f32>, 64>;
  for (var i = 0u; i < TM * TN / 4u; i++) { acc[i] = vec4<f32>(0.0); }
  var dy: array<i32, MAX_TM>;   // tap offsets ky, kx of each row
  var dx: array<i32, MAX_TM>;
  var ci: array<u32, MAX_TM>;
  for (var i = 0u; i < TM; i++) {
    let r = min(row0 + i * WG, M - 1u);
    ci[i] = r % p.Cin;
    dx[i] = i32((r / p.Cin) % p.KW) - i32(p.pad);
    dy[i] = i32(r / (p.Cin * p.KW)) - i32(p.pad);
  }
  let P = p.N * p.Ho * p.Wo;
  let start = wid.z * p.chunk;
  let end = min(start + p.chunk, P);
  for (var q = start; q < end; q++) {
    let ox = q % p.Wo;
    let oy = (q / p.Wo) % p.Ho;
    let n = q / (p.Wo * p.Ho);
    let yRow = q * p.Cout;
    var b: array<vec4<f32>, 4>;
    for (var j = 0u; j < TN / 4u; j++) {
      let c = col0 + 4u * j;
      let last = p.Cout - 1u;
      b[j] = vec4<f32>(dY[yRow + min(c, last)], dY[yRow + min(c + 1u, last)],
                       dY[yRow + min(c + 2u, last)], dY[yRow + min(c + 3u, last)]);
    }
    let iyBase = i32(oy * p.stride);
    let ixBase = i32(ox * p.stride);
    let nBase = n * p.H;
    for (var i = 0u; i < TM; i++) {
      let iy = iyBase + dy[i];
      let ix = ixBase + dx[i];
      let inside = iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
      let idx = ((nBase + u32(max(iy, 0))) * p.W + u32(max(ix, 0))) * p.Cin + ci[i];
      let a = select(0.0, X[idx], inside);
      for (var j = 0u; j < TN / 4u; j++) {
        acc[i * (TN / 4u) + j] = fma(vec4<f32>(a), b[j], acc[i * (TN / 4u) + j]);
      }
    }
  }
  let base = wid.z * M * p.Cout;
  for (var i = 0u; i < TM; i++) {
    let r = row0 + i * WG;
    if (r >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let c = col0 + j;
      if (c < p.Cout) { partial[base + r * p.Cout + c] = acc[i * (TN / 4u) + j / 4u][j % 4u]; }
    }
  }
}
