// Helpers for kernels that share loaded values across a subgroup of 8 lanes (compiled in front of them where
// Runtime.subgroups8 holds, i.e. subgroups are 8 lanes wide and lane i of one is local invocation i mod 8).
// On llvmpipe a value one lane loaded and broadcast costs about a fifth of a uniform-buffer read and a tenth of
// a storage read at an address all lanes share (docs/cpu-drivers.md).
enable subgroups;

// The values of lanes 0–3, resp. 4–7, as one vec4 in every lane.
fn lanes0to3(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 0u), subgroupBroadcast(v, 1u), subgroupBroadcast(v, 2u), subgroupBroadcast(v, 3u));
}
fn lanes4to7(v: f32) -> vec4<f32> {
  return vec4<f32>(subgroupBroadcast(v, 4u), subgroupBroadcast(v, 5u), subgroupBroadcast(v, 6u), subgroupBroadcast(v, 7u));
}
