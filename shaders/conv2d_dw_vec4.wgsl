// How the depthwise kernels (conv2d_dw*.wgsl, compiled after this file) read and write their operands when the
// channel count is a multiple of 4: each row of C channels as C/4 vec4s. Every operand is a matrix of rows of C
// channels (NHWC pixels, or taps of the weights); q is a block of 4 channels. conv2d_dw_scalar.wgsl is the same
// for any channel count. Bindings: a, the image the window slides over; b, the per-channel operand; out.
@group(0) @binding(1) var<storage, read> a: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> b: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<f32>>;

fn loadA(row: u32, q: u32) -> vec4<f32> { return a[row * p.C4 + q]; }
fn loadB(row: u32, q: u32) -> vec4<f32> { return b[row * p.C4 + q]; }
fn storeOut(row: u32, q: u32, v: vec4<f32>) { out[row * p.C4 + q] = v; }
