override WG: u32 = 64u;
struct Params { M: u32, N: u32, K: u32, _p0: u32, M4: u32, N4: u32, _p1: u32, _p2: u32, }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> At4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u) {
  let q = min(wid.x * WG + lid, p.M4 - 1u);
  let c0 = min(wid.y * 2u, p.N4 - 1u);
  let c1 = min(wid.y * 2u + 1u, p.N4 - 1u);
  var a0 = vec4<f32>(0.0); var a1 = vec4<f32>(0.0); var a2 = vec4<f32>(0.0); var a3 = vec4<f32>(0.0);
  var d0 = vec4<f32>(0.0); var d1 = vec4<f32>(0.0); var d2 = vec4<f32>(0.0); var d3 = vec4<f32>(0.0);
  for (var k = 0u; k < p.K; k++) {
    let a = At4[k * p.M4 + q];
    let b0 = B4[k * p.N4 + c0];
    let b1 = B4[k * p.N4 + c1];
    a0 = fma(vec4<f32>(a.x), b0, a0); d0 = fma(vec4<f32>(a.x), b1, d0);
    a1 = fma(vec4<f32>(a.y), b0, a1); d1 = fma(vec4<f32>(a.y), b1, d1);
    a2 = fma(vec4<f32>(a.z), b0, a2); d2 = fma(vec4<f32>(a.z), b1, d2);
    a3 = fma(vec4<f32>(a.w), b0, a3); d3 = fma(vec4<f32>(a.w), b1, d3);
  }
  if (wid.x * WG + lid >= p.M4) { return; }
  let r = 4u * q;
  let rows = array<vec4<f32>, 4>(a0, a1, a2, a3);
  let rows2 = array<vec4<f32>, 4>(d0, d1, d2, d3);
  for (var e = 0u; e < 4u; e++) {
    if (r + e >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      if (4u * c0 + j < p.N) { C[(r + e) * p.N + 4u * c0 + j] = rows[e][j]; }
      if (4u * c1 + j < p.N && c1 != c0) { C[(r + e) * p.N + 4u * c1 + j] = rows2[e][j]; }
    }
  }
}
