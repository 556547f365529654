// A block of channels copied between NHWC tensors of different channel counts (each a matrix of rows = pixels
// and IN_C resp. OUT_C channels):
//   out[r, outOff + c] = x[r, inOff + c]   for every row r and c < COUNT
// which is a channel slice (inOff = its first channel), one part of a concatenation (outOff = its place; each
// part is its own launch into the same output) or, with PAD, the gradient of a slice: the output row's other
// channels are written as 0. The channel counts are override constants (divisions by constants are cheap on CPU
// drivers, see index4.wgsl); the offsets are parameters.
override IN_C: u32 = 1u;
override OUT_C: u32 = 1u;
override COUNT: u32 = 1u;
override PAD: bool = false;
override WG: u32 = 64u;

struct Params { n: u32, inOff: u32, outOff: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  if (PAD) {
    // One invocation per output value (n = rows · OUT_C).
    let r = i / OUT_C;
    let c = i % OUT_C;
    let inside = c >= p.outOff && c < p.outOff + COUNT;
    out[i] = select(0.0, x[r * IN_C + p.inOff + min(c - p.outOff, COUNT - 1u)], inside);
  } else {
    // One invocation per copied value (n = rows · COUNT).
    let r = i / COUNT;
    let c = i % COUNT;
    out[r * OUT_C + p.outOff + c] = x[r * IN_C + p.inOff + c];
  }
}
