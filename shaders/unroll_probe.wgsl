// The probe behind Capabilities.unrollLoops (engine/runtime/unrolling.ts): the shape of every register-blocked
// kernel here — an array of accumulators indexed by a constant-trip-count loop inside a runtime loop. A compiler
// that unrolls the inner loop keeps acc in registers; one that does not keeps it in memory, and this kernel then
// runs several times slower than the same text with the loop spelled out (engine/unroll.ts).
override R: u32 = 16u;

struct Params { K: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  var acc: array<vec4<f32>, 16>;
  var x = vec4<f32>(f32(gid.x & 7u), 1.0, 0.5, 0.25) * 1e-3;
  for (var k = 0u; k < p.K; k++) {
    for (var i = 0u; i < R; i++) { acc[i] = fma(x, acc[i], vec4<f32>(f32(i) * 1e-3)); }
    x = x.yzwx;
  }
  var s = vec4<f32>(0.0);
  for (var i = 0u; i < R; i++) { s += acc[i]; }
  out[gid.x] = s;
}
