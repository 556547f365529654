// Buffer pool: GPU buffers are expensive to create and their memory is only returned when destroyed, so every
// tensor's storage comes from here and goes back here. Buffers are bucketed by a size class (a power of two
// split into 4 steps, so at most 25% is wasted) and reused LIFO, which makes steady-state training allocate
// nothing new after the first step: the live/peak counters below let tests check exactly that.

// Read lazily: in Node the WebGPU globals exist only once engine/node/dawn.ts has installed them.
// UNIFORM too: a small operand that every invocation reads alike (the conv weights) is bound as a uniform buffer,
// which CPU drivers load once per SIMD vector instead of lane by lane (see shaders/conv2d_rows.wgsl).
const storageUsage = () => GPUBufferUsage.STORAGE | GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Rounds a byte size up to its size class: 16-byte aligned, then one of 4 steps per power of two. */
export function sizeClass(bytes: number): number {
  const b = Math.max(16, Math.ceil(bytes / 16) * 16);
  if (b <= 256) return b;
  const pow = 2 ** Math.floor(Math.log2(b));
  const step = pow / 4;
  return Math.ceil(b / step) * step;
}

export interface PoolStats {
  /** Buffers created and not destroyed (in use + free in the pool). */
  allocatedBuffers: number;
  allocatedBytes: number;
  /** Buffers currently handed out. */
  liveBuffers: number;
  liveBytes: number;
  peakLiveBytes: number;
  /** Total createBuffer calls so far: flat after warm-up in steady-state training. */
  created: number;
}

export class BufferPool {
  private free = new Map<number, GPUBuffer[]>();
  private stats: PoolStats = {
    allocatedBuffers: 0,
    allocatedBytes: 0,
    liveBuffers: 0,
    liveBytes: 0,
    peakLiveBytes: 0,
    created: 0,
  };

  constructor(private device: GPUDevice, private maxBindingSize: number) {}

  acquire(bytes: number, label: string): GPUBuffer {
    const size = sizeClass(bytes);
    if (size > this.maxBindingSize) {
      throw new RangeError(
        `${label}: a tensor of ${bytes} bytes exceeds this adapter's maxStorageBufferBindingSize ` +
          `(${this.maxBindingSize} bytes); use a smaller batch`,
      );
    }
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (!buffer) {
      buffer = this.device.createBuffer({ size, usage: storageUsage(), label: `pool/${size}` });
      this.stats.created++;
      this.stats.allocatedBuffers++;
      this.stats.allocatedBytes += size;
    }
    this.stats.liveBuffers++;
    this.stats.liveBytes += size;
    this.stats.peakLiveBytes = Math.max(this.stats.peakLiveBytes, this.stats.liveBytes);
    return buffer;
  }

  /**
   * Returns a buffer for reuse. Safe without waiting for the GPU: every later use is encoded after every
   * earlier one on the same queue, and the runtime submits pending work before any queue.writeBuffer.
   */
  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.stats.liveBuffers--;
    this.stats.liveBytes -= size;
  }

  /** Destroys every free buffer (for example between benchmarks of different models). */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats.allocatedBuffers--;
        this.stats.allocatedBytes -= b.size;
        b.destroy();
      }
    }
    this.free.clear();
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }
}
