// One command encoder collects a step's dispatches in one compute pass until something must be submitted (a
// readback, an upload, or every SUBMIT_EVERY dispatches: an early submit lets the driver start while JavaScript
// keeps encoding). Copies and clears end the pass and go on the same encoder.

const SUBMIT_EVERY = 96;

export class Commands {
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  submitCount = 0;

  constructor(private device: GPUDevice) {}

  /** The open compute pass (begun on first use). */
  computePass(label: string): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder({ label: 'step' });
      this.pass = this.encoder.beginComputePass({ label });
    }
    return this.pass;
  }

  /** The encoder for copies, clears and one-off passes (outside the open compute pass, which ends). */
  encoderOutsidePass(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'step' }));
  }

  /** Counts a dispatch; submits when enough have collected. */
  dispatched(): void {
    if (++this.pending >= SUBMIT_EVERY) this.submit();
  }

  /** Sends everything encoded so far to the GPU. Nothing waits. */
  submit(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submitCount++;
    }
    this.pending = 0;
  }
}
