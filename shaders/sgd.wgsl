// SGD with momentum, weight decay and optional Nesterov, in place (PyTorch semantics):
//   g' = g + wd·p;  v = μ·v + g';  p −= lr·(g' + μ·v) with Nesterov, else p −= lr·v.
override NESTEROV: bool = false;
override WG: u32 = 64u;

struct Params { n: u32 }
// Hyper-parameters live in their own small buffer, rewritten when the learning rate changes.
struct Hyper { lr: f32, momentum: f32, weightDecay: f32 }
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<uniform> h: Hyper;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read> grad: array<f32>;
@group(0) @binding(4) var<storage, read_write> velocity: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * WG;
  if (i >= p.n) { return; }
  let g = grad[i] + h.weightDecay * param[i];
  let v = h.momentum * velocity[i] + g;
  velocity[i] = v;
  var step = v;
  if (NESTEROV) { step = g + h.momentum * v; }
  param[i] = param[i] - h.lr * step;
}
