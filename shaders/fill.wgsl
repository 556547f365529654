// out = value everywhere, in vec4s (pooled buffers are padded to 16 bytes, so the vec4 view always fits).
struct Params { n4: u32, value: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;

// Launched by vec4_each.wgsl, compiled in front of this file.
fn vectors() -> u32 { return p.n4; }
fn store(i: u32) { out[i] = vec4<f32>(p.value); }
