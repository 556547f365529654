// Per-kernel GPU timing with timestamp queries (where the adapter has 'timestamp-query'): while a profiler is
// attached, every dispatch runs in its own compute pass whose start and end are timestamped, and the
// durations are summed per label. For benchmarks and investigations only: it serialises the work.

export class Profiler {
  private querySet: GPUQuerySet;
  private resolveBuf: GPUBuffer;
  private labels: string[] = [];
  readonly totals = new Map<string, { ms: number; count: number }>();

  constructor(
    private device: GPUDevice,
    private capacity = 2048,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
    this.resolveBuf = device.createBuffer({
      size: capacity * 16,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
  }

  get full(): boolean {
    return this.labels.length >= this.capacity;
  }

  /** Timestamp writes for the next dispatch's pass. */
  next(label: string): GPUComputePassTimestampWrites {
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Encodes the resolve of all pending timestamps; returns a staging buffer to read after submit. */
  resolve(encoder: GPUCommandEncoder): { staging: GPUBuffer; labels: string[] } | null {
    const n = this.labels.length;
    if (n === 0) return null;
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolveBuf, 0);
    const staging = this.device.createBuffer({ size: n * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    encoder.copyBufferToBuffer(this.resolveBuf, 0, staging, 0, n * 16);
    const labels = this.labels;
    this.labels = [];
    return { staging, labels };
  }

  async accumulate(r: { staging: GPUBuffer; labels: string[] }): Promise<void> {
    await r.staging.mapAsync(GPUMapMode.READ);
    const t = new BigInt64Array(r.staging.getMappedRange());
    r.labels.forEach((label, i) => {
      const ms = Number(t[2 * i + 1] - t[2 * i]) / 1e6;
      const e = this.totals.get(label) ?? { ms: 0, count: 0 };
      e.ms += ms;
      e.count++;
      this.totals.set(label, e);
    });
    r.staging.unmap();
    r.staging.destroy();
  }

  /** Rows sorted by total time. */
  table(): { label: string; ms: number; count: number; share: number }[] {
    const total = [...this.totals.values()].reduce((a, e) => a + e.ms, 0);
    return [...this.totals.entries()]
      .map(([label, e]) => ({ label, ms: e.ms, count: e.count, share: e.ms / total }))
      .sort((a, b) => b.ms - a.ms);
  }
}
