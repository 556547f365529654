// Device errors. WebGPU reports validation, out-of-memory and compile errors asynchronously; they are collected
// here and raised at the next check() (after a readback or sync) with the kernels that ran last named, since
// those most likely caused them.

export class GpuError extends Error {
  override name = 'GpuError';
}

export class DeviceErrors {
  private errors: string[] = [];
  private lost: string | null = null;
  /** Labels of the most recent dispatches. */
  private recent: string[] = [];

  constructor(device: GPUDevice) {
    device.addEventListener('uncapturederror', (event) => {
      this.errors.push((event as GPUUncapturedErrorEvent).error.message);
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lost = `device lost (${info.reason}): ${info.message}`;
    });
  }

  add(message: string): void {
    this.errors.push(message);
  }

  ran(label: string): void {
    this.recent.push(label);
    if (this.recent.length > 8) this.recent.shift();
  }

  /** Throws the first device error (validation, out-of-memory, compile, device loss) seen since the last call. */
  check(): void {
    if (this.lost) throw new GpuError(`${this.lost} (recent kernels: ${this.recent.join(', ')})`);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new GpuError(`GPU error: ${msg}\n(recent kernels: ${this.recent.join(', ')})`);
    }
  }
}
