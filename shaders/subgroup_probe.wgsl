// Checks what the subgroup-broadcast kernel variants assume (engine/runtime/subgroups.ts): subgroups are 8
// lanes wide, lane i of a workgroup's subgroup is local invocation i mod 8 (here in workgroups of 16, as the GEMM
// kernels may run), and subgroupBroadcast hands every lane the value of the lane named. Each invocation writes 1
// if all of that holds for it, else 0.
enable subgroups;

@group(0) @binding(0) var<storage, read_write> ok: array<u32>;

@compute @workgroup_size(16)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3u,
        @builtin(subgroup_invocation_id) sid: u32, @builtin(subgroup_size) size: u32) {
  let first = wid.x * 100u + (lid / 8u) * 8u;   // this subgroup's lane 0
  let v = f32(wid.x * 100u + lid) + 0.5;
  let third = subgroupBroadcast(v, 3u);
  let seventh = subgroupBroadcast(v, 7u);
  let good = size == 8u && sid == lid % 8u && third == f32(first + 3u) + 0.5 && seventh == f32(first + 7u) + 0.5;
  ok[wid.x * 16u + lid] = select(0u, 1u, good);
}
