// The launch shape of the contiguous vec4 kernels (unary, binary_same, pack_vec4), compiled in front of them:
// each workgroup covers WG·PER consecutive vectors, and lane l takes vectors l, l + WG, …, so neighbouring lanes
// touch neighbouring vectors at every step. llvmpipe runs each workgroup as a task with its own set-up, so few,
// large ones (engine/kernels/grid.ts: VEC_WG, VEC_PER, vec4Grid). The kernel after this file defines
// `vectors()`, how many vectors it writes, and `store(i)`, which writes vector i.
override WG: u32 = 256u;
override PER: u32 = 4u;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32, @builtin(num_workgroups) nwg: vec3u) {
  let base = (wid.x + wid.y * nwg.x) * WG * PER + lid;
  let n = vectors();
  for (var k = 0u; k < PER; k++) {
    let i = base + k * WG;
    if (i < n) { store(i); }
  }
}
