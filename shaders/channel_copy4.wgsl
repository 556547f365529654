// channel_copy.wgsl in vec4s, for channel counts and offsets that are all multiples of 4 (IN_C4 = IN_C / 4, …):
//   out[r, outOff4 + c] = x[r, inOff4 + c]   for every row r and c < COUNT4 (in vec4s of 4 channels)
// with PAD, the output row's other vec4s are written as 0.
override IN_C4: u32 = 1u;
override OUT_C4: u32 = 1u;
override COUNT4: u32 = 1u;
override PAD: bool = false;
override WG: u32 = 64u;

struct Params { n: u32, inOff4: u32, outOff4: u32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4<f32>>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  if (PAD) {
    let r = i / OUT_C4;
    let c = i % OUT_C4;
    let inside = c >= p.outOff4 && c < p.outOff4 + COUNT4;
    out[i] = select(vec4<f32>(0.0), x[r * IN_C4 + p.inOff4 + min(c - p.outOff4, COUNT4 - 1u)], inside);
  } else {
    let r = i / COUNT4;
    let c = i % COUNT4;
    out[r * OUT_C4 + p.outOff4 + c] = x[r * IN_C4 + p.inOff4 + c];
  }
}
