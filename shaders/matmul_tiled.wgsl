// C = A·B on the tiled GEMM (gemm_tiled.wgsl, compiled in front: the tiling is explained there). The operands
// are read through strides, as in matmul_naive.wgsl: a transposed operand is just other strides.
struct Params { M: u32, N: u32, K: u32, sam: u32, sak: u32, sbk: u32, sbn: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

fn dims() -> vec3u { return vec3u(p.M, p.N, p.K); }
fn loadA(m: u32, k: u32) -> f32 { return A[m * p.sam + k * p.sak]; }
fn loadB(k: u32, n: u32) -> f32 { return B[k * p.sbk + n * p.sbn]; }
fn store(m: u32, n: u32, v: f32, slice: u32) { C[m * p.N + n] = v; }
