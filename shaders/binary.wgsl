// out[i] = OP(a[ia], b[ib]) with numpy-style broadcasting. The output is walked in row-major order over a
// rank-4 shape; each operand has its own strides, 0 on the dimensions where it is broadcast. (Operands of the
// same shape take binary_same.wgsl.)
// The walk itself is offset4 (index4.wgsl, compiled in front of this file).
// OP: one `case` each, named as in BINARY_OPS (engine/kernels/elementwise.ts; checked by the contracts test).
// The ReLU backwards take a = the gradient, b = the ReLU's input (its output is > 0 at the same places).
override OP: u32 = 0u;
override D1: u32 = 1u;
override D2: u32 = 1u;
override D3: u32 = 1u;
override WG: u32 = 64u;

struct Params {
  n: u32,
  sa: vec4<u32>,  // strides of a
  sb: vec4<u32>,  // strides of b
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let x = a[offset4(i, D1, D2, D3, p.sa)];
  let y = b[offset4(i, D1, D2, D3, p.sb)];
  var v: f32;
  switch OP {
    case 0u: { v = x + y; }                                // add
    case 1u: { v = x - y; }                                // sub
    case 2u: { v = x * y; }                                // mul
    case 3u: { v = x / y; }                                // div
    case 4u: { v = select(0.0, x, y > 0.0); }              // reluBackward
    case 6u: { v = select(0.0, x, y > 0.0 && y < 6.0); }   // relu6Backward
    default: { v = bitcast<f32>(0x7fc00000u | (p.n & 0u)); }
  }
  out[i] = v;
}
