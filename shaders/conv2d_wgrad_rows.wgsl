// Conv2d weight gradient along output rows, for kernels up to 3 wide:
//   dW[ky, kx, ci, co] = Σ_{n, oy, ox} X[n, s·oy − pad + ky, s·ox − pad + kx, ci] · dY[n, oy, ox, co]  (0 outside X)
// Like conv2d_wgrad.wgsl it splits the pixels into slices, each writing its own partial result that
// splitk_reduce.wgsl sums in a fixed order; here a slice is a run of whole output rows (n, oy).
// Why a second weight-gradient kernel (conv2d_wgrad.wgsl gathers X for every (pixel, tap) and reads dY at an
// address all lanes share; on CPU drivers those loads cost more than the FMAs, docs/cpu-drivers.md):
// - an invocation owns one (ky, quad of 4 input channels) and all KW taps kx of it: 4·KW rows of dW. Walking
//   along an output row, the X value under tap kx at pixel ox is the one under tap kx + 1 at pixel ox − 1, so it
//   keeps a window of KW vec4s and loads one new vec4 per pixel instead of KW (stride s: s new ones, or KW);
// - the 8 invocations of a workgroup walk the same pixels (8 different row blocks), so dY's TN values per pixel
//   are the same for all of them and come through rowB (gemm_b_subgroup.wgsl: one load per lane and subgroup
//   broadcasts where 8-lane subgroups exist; gemm_b_storage.wgsl elsewhere), compiled in front of this file.
// Layouts: X4 = X [N·H·W, Cin4·4] and dY [N·Ho·Wo, C4·4] with channels padded to a multiple of 4 (engine/kernels/
// conv2d/weight_grad.ts packs them when they are not), partial [slices, KH·KW·Cin, Cout]. X's and dY's channels
// may be a window of wider tensors: xStride4 vec4s per pixel from vec4 xOff4 (and yStride4, yOff4), which is how
// a grouped convolution reads each group's channels in place (engine/kernels/conv2d/grouped.ts).
override TN: u32 = 16u;   // output channels per invocation: 16 (rowB's subgroup variant needs a multiple of 8)
override WG: u32 = 8u;    // one SIMD vector / subgroup on llvmpipe
override KW: u32 = 3u;    // kernel width, at most 3: sizes the window and the accumulator rows
override STRIDE: u32 = 1u;
override KEEP: u32 = max(KW, STRIDE) - STRIDE;   // window entries the next pixel reuses

struct Params {
  N: u32, H: u32, W: u32, Cin: u32,
  Ho: u32, Wo: u32, Cout: u32, KH: u32,
  pad: u32, rowsPerSlice: u32, Cin4: u32, C4: u32,   // rowsPerSlice: output rows (n, oy) per slice
  RB: u32, groups: u32, slices: u32,      // RB = KH·Cin4 row blocks, in `groups` workgroups per slice
  xStride4: u32, xOff4: u32, yStride4: u32, yOff4: u32,   // the channel windows (above): Cin4, 0, C4, 0 for whole tensors
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> X4: array<vec4<f32>>;
// binding 2: dY, read through rowB (gemm_b_subgroup.wgsl or gemm_b_storage.wgsl)
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;

// X4 at pixel (row start xRow, column ix) and channel quad c4, or zeros outside the row.
fn xAt(xRow: u32, rowInside: bool, ix: i32, c4: u32) -> vec4<f32> {
  let inside = rowInside && ix >= 0 && ix < i32(p.W);
  return select(vec4<f32>(0.0), X4[(xRow + u32(max(ix, 0))) * p.xStride4 + p.xOff4 + c4], inside);
}

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let group = wid.x % p.groups;
  let slice = wid.x / p.groups;
  let block = group * WG + lid;
  let rb = min(block, p.RB - 1u);   // surplus lanes redo the last row block and store nothing
  let ky = rb / p.Cin4;
  let c4 = rb % p.Cin4;
  let col4 = wid.y * (TN / 4u);
  var acc: array<array<vec4<f32>, 4>, 12>;   // [4·kx + e][j]: row (ky, kx, 4·c4 + e), columns 4j..4j+3 of the block
  let rows = p.N * p.Ho;
  let first = slice * p.rowsPerSlice;
  let last = min(first + p.rowsPerSlice, rows);
  for (var r = first; r < last; r++) {
    let n = r / p.Ho;
    let iy = i32(STRIDE * (r % p.Ho) + ky) - i32(p.pad);
    let rowInside = iy >= 0 && iy < i32(p.H);
    let xRow = (n * p.H + u32(max(iy, 0))) * p.W;
    // win[kx] holds X under tap kx at the current pixel, i.e. at column STRIDE·ox − pad + kx. The next pixel's
    // taps are STRIDE columns further: the first KEEP of them are this pixel's last KEEP, the rest are loaded.
    // Primed as if for the pixel left of the row.
    var win: array<vec4<f32>, 3>;
    for (var k = STRIDE; k < KW; k++) { win[k] = xAt(xRow, rowInside, i32(k) - i32(STRIDE + p.pad), c4); }
    for (var ox = 0u; ox < p.Wo; ox++) {
      for (var k = 0u; k < KEEP; k++) { win[k] = win[k + STRIDE]; }
      let ix0 = i32(STRIDE * ox) - i32(p.pad);
      for (var k = KEEP; k < KW; k++) { win[k] = xAt(xRow, rowInside, ix0 + i32(k), c4); }
      let b = rowBAt((r * p.Wo + ox) * p.yStride4 + p.yOff4, col4, p.C4, lid % 8u);   // dY at this pixel, TN channels
      for (var kx = 0u; kx < KW; kx++) {
        for (var e = 0u; e < 4u; e++) {
          let a = vec4<f32>(win[kx][e]);
          for (var j = 0u; j < TN / 4u; j++) { acc[4u * kx + e][j] = fma(a, b[j], acc[4u * kx + e][j]); }
        }
      }
    }
  }
  if (block >= p.RB) { return; }
  let base = slice * p.KH * KW * p.Cin * p.Cout;
  for (var kx = 0u; kx < KW; kx++) {
    for (var e = 0u; e < 4u; e++) {
      let ci = 4u * c4 + e;
      if (ci >= p.Cin) { continue; }
      let row = (ky * KW + kx) * p.Cin + ci;
      for (var j = 0u; j < TN; j++) {
        let c = 4u * col4 + j;
        if (c < p.Cout) { partial[base + row * p.Cout + c] = acc[4u * kx + e][j / 4u][j % 4u]; }
      }
    }
  }
}
