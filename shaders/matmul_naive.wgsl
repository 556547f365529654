// C = A·B the textbook way: one invocation per element of C, each the dot product of a row of A and a column
// of B. The first rung of the kernel ladder (docs/kernel-ladder.md): short enough to check by eye, correct on
// any device, and the measure the faster kernels are compared against. The operands are read through strides,
// so a transposed operand is the same kernel with other strides: A(m, k) = A[m·sam + k·sak], B(k, n) likewise.
override WG: u32 = 64u;

struct Params { M: u32, N: u32, K: u32, sam: u32, sak: u32, sbk: u32, sbn: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;   // which element of C [M, N]
  if (i >= p.M * p.N) { return; }
  let m = i / p.N;
  let n = i % p.N;
  var sum = 0.0;
  for (var k = 0u; k < p.K; k++) { sum += A[m * p.sam + k * p.sak] * B[k * p.sbk + n * p.sbn]; }
  C[i] = sum;
}
