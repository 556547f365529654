// Bind groups cached by pipeline and buffers: a training step that repeats its shapes reuses its pooled buffers,
// and so its bind groups.

const MAX_CACHED = 20000;

const asBinding = (b: GPUBuffer | GPUBufferBinding): GPUBufferBinding => ('buffer' in b ? b : { buffer: b });

export class BindGroups {
  private groups = new Map<string, GPUBindGroup>();
  private bufferIds = new WeakMap<GPUBuffer, number>();

  constructor(
    private device: GPUDevice,
    private nextId: () => number,
  ) {}

  private key(b: GPUBuffer | GPUBufferBinding): string {
    const binding = asBinding(b);
    let id = this.bufferIds.get(binding.buffer);
    if (id === undefined) this.bufferIds.set(binding.buffer, (id = this.nextId()));
    return 'buffer' in b ? `${id}@${b.offset ?? 0}+${b.size ?? ''}` : `${id}`;
  }

  get(pipeline: GPUComputePipeline, pipelineId: number, buffers: (GPUBuffer | GPUBufferBinding)[], label: string): GPUBindGroup {
    const key = `${pipelineId}:${buffers.map((b) => this.key(b)).join(',')}`;
    let bg = this.groups.get(key);
    if (!bg) {
      if (this.groups.size >= MAX_CACHED) this.groups.clear();
      bg = this.device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: buffers.map((b, binding) => ({ binding, resource: asBinding(b) })),
      });
      this.groups.set(key, bg);
    }
    return bg;
  }

  get size(): number {
    return this.groups.size;
  }

  /** Forgets every bind group (before the pool frees buffers they may point at). */
  clear(): void {
    this.groups.clear();
  }
}
