// Whether kernels may share loaded values across 8-invocation workgroups with subgroupBroadcast: the device has
// the 'subgroups' feature and a workgroup of 8 is one subgroup of 8. shaders/subgroup_probe.wgsl checks what
// the subgroup kernels assume on a few workgroups; a driver that fails it (or cannot compile it) keeps the
// other kernels. Why it matters on CPU drivers: docs/cpu-drivers.md.

import { kernel } from './contract.ts';
import type { Runtime } from './runtime.ts';

const PROBE = kernel({ shader: 'subgroup_probe.wgsl', bindings: ['ok'] });

export async function probeSubgroups8(rt: Runtime): Promise<boolean> {
  if (!rt.device.features.has('subgroups')) return false;
  const groups = 4;
  const bytes = groups * 16 * 4;
  const buf = rt.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'subgroup probe' });
  try {
    rt.launch(PROBE, { buffers: { ok: buf }, workgroups: [groups] });
    const ok = new Uint32Array(await rt.read(buf, bytes));
    return ok.every((v) => v === 1);
  } catch {
    return false;
  } finally {
    buf.destroy();
  }
}
