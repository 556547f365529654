// Reading GPU buffers back: the only places the engine waits on the GPU for data. read() waits at once;
// readLater() queues a copy and returns a handle, so a training loop can read step k − 1's loss after it has
// queued step k and the device is never idle while JavaScript waits.

import type { Commands } from './commands.ts';
import type { DeviceErrors } from './errors.ts';

const bytes4 = (n: number) => Math.ceil(n / 4) * 4;

export class Readback {
  private free: GPUBuffer[] = [];

  constructor(
    private device: GPUDevice,
    private commands: Commands,
    private errors: DeviceErrors,
  ) {}

  /** Copies a buffer's first `bytes` back to the CPU. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = bytes4(bytes);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readback' });
    this.commands.encoderOutsidePass().copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.commands.submit();
    await this.map(staging);
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.errors.check();
    return out;
  }

  /** Queues copies of small buffers (a step's loss and accuracy counters) into one mappable buffer. */
  readLater(parts: { buffer: GPUBuffer; bytes: number }[]): PendingRead {
    const total = parts.reduce((a, p) => a + bytes4(p.bytes), 0);
    const size = Math.max(256, Math.ceil(total / 256) * 256);
    const idx = this.free.findIndex((b) => b.size === size);
    const staging =
      idx >= 0
        ? this.free.splice(idx, 1)[0]
        : this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readLater' });
    const enc = this.commands.encoderOutsidePass();
    let off = 0;
    for (const p of parts) {
      enc.copyBufferToBuffer(p.buffer, 0, staging, off, bytes4(p.bytes));
      off += bytes4(p.bytes);
    }
    this.commands.submit();
    return new PendingRead(() => this.collect(staging, total));
  }

  private async collect(staging: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    await this.map(staging);
    const out = staging.getMappedRange(0, bytes4(bytes)).slice(0, bytes);
    staging.unmap();
    this.free.push(staging);
    this.errors.check();
    return out;
  }

  private async map(staging: GPUBuffer): Promise<void> {
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.errors.check();
      throw e;
    }
  }
}

/** A readback queued by readLater; wait() resolves with the bytes once the GPU has produced them. */
export class PendingRead {
  constructor(private collect: () => Promise<ArrayBuffer>) {}
  wait(): Promise<ArrayBuffer> {
    return this.collect();
  }
}
