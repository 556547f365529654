// What the device can do and what it needs, by name: detected once when the runtime starts (the probes in
// subgroups.ts and unrolling.ts, the device's features), then asked by the kernels that care. No kernel asks
// which driver it runs on: a driver is only ever described by what was detected or measured on it.

export interface Capabilities {
  /** Kernels may share values across 8-invocation workgroups with subgroupBroadcast (probed: subgroups.ts). */
  subgroups8: boolean;
  /**
   * Kernels get their constant loops unrolled in the WGSL text before compiling (engine/unroll.ts), because
   * this driver's compiler does not unroll them and keeps register arrays in memory (measured: unrolling.ts).
   */
  unrollLoops: boolean;
  /** Kernels may use 16-bit floats (the device has 'shader-f16'; no kernel does yet). */
  f16: boolean;
  /** Dispatches can be timed on the GPU (the device has 'timestamp-query'; the profiler needs it). */
  timestampQuery: boolean;
}

/** What the device's features say; the probed flags start false until their probe has run. */
export function featureCapabilities(device: GPUDevice): Capabilities {
  return {
    subgroups8: false,
    unrollLoops: false,
    f16: device.features.has('shader-f16'),
    timestampQuery: device.features.has('timestamp-query'),
  };
}
