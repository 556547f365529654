// Sums over up to four reduced dimensions, deterministically (no atomics: a requirement for bit-exact resume).
// Long sums: one workgroup per output element, whose WG invocations stride over the reduced elements and then
// combine their partial sums in a fixed tree order. Short sums (SERIAL, e.g. a global average pool's 64 pixels):
// one invocation per output element, summing in order — no barriers, which SwiftShader runs slowly (a ResNet-8
// step spent 4% of its time in this kernel there).
override WG: u32 = 64u;
override SERIAL: bool = false;
// Kept dims 1..3 of the output and reduced dims 1..3 (both rank 4) as constants, walked by offset4 (index4.wgsl).
override OD1: u32 = 1u;
override OD2: u32 = 1u;
override OD3: u32 = 1u;
override RD1: u32 = 1u;
override RD2: u32 = 1u;
override RD3: u32 = 1u;

struct Params {
  outputs: u32, reduced: u32, scale: f32,
  os: vec4<u32>,      // input strides of the kept dims
  rs: vec4<u32>,      // input strides of the reduced dims
}
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

var<workgroup> partial: array<f32, WG>;

fn serialSum(o: u32) {
  if (o >= p.outputs) { return; }
  let base = offset4(o, OD1, OD2, OD3, p.os);
  var s = 0.0;
  for (var r = 0u; r < p.reduced; r++) {
    s += x[base + offset4(r, RD1, RD2, RD3, p.rs)];
  }
  out[o] = s * p.scale;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
        @builtin(local_invocation_index) lid: u32) {
  if (SERIAL) {
    serialSum((wid.x + wid.y * nwg.x) * WG + lid);
    return;
  }
  let o = wid.x + wid.y * nwg.x;   // uniform across the workgroup, so the early return below is too
  if (o >= p.outputs) { return; }
  let base = offset4(o, OD1, OD2, OD3, p.os);
  var s = 0.0;
  for (var r = lid; r < p.reduced; r += WG) {
    s += x[base + offset4(r, RD1, RD2, RD3, p.rs)];
  }
  partial[lid] = s;
  workgroupBarrier();
  for (var stride = WG / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { partial[lid] += partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { out[o] = partial[0] * p.scale; }
}
