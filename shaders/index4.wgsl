// The rank-4 walk of the generic kernels (binary.wgsl, strided_copy.wgsl, reduce_sum.wgsl): element `i` of a
// row-major [D0, d1, d2, d3] index space, at offset i0·s.x + i1·s.y + i2·s.z + i3·s.w of an operand with strides
// s. The dims come from override constants: CPU drivers have no vector integer division, and dividing by a
// compile-time constant becomes a multiply and a shift (several times faster there).
fn offset4(i: u32, d1: u32, d2: u32, d3: u32, s: vec4<u32>) -> u32 {
  var r = i;
  let i3 = r % d3; r = r / d3;
  let i2 = r % d2; r = r / d2;
  let i1 = r % d1;
  let i0 = r / d1;
  return i0 * s.x + i1 * s.y + i2 * s.z + i3 * s.w;
}
