// conv2d_dw_vec4.wgsl for channel counts that are not a multiple of 4: the same four functions over rows of C
// scalars, where the last block of 4 channels is partial (its missing channels read as 0 and are not written).
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn loadA(row: u32, q: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var k = 0u; k < 4u; k++) {
    if (4u * q + k < p.C) { v[k] = a[row * p.C + 4u * q + k]; }
  }
  return v;
}

fn loadB(row: u32, q: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var k = 0u; k < 4u; k++) {
    if (4u * q + k < p.C) { v[k] = b[row * p.C + 4u * q + k]; }
  }
  return v;
}

fn storeOut(row: u32, q: u32, v: vec4<f32>) {
  for (var k = 0u; k < 4u; k++) {
    if (4u * q + k < p.C) { out[row * p.C + 4u * q + k] = v[k]; }
  }
}
