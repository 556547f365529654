// The runtime owns the device and everything that turns "run kernel K on these buffers" into GPU commands:
// compiled pipelines (cached by shader + override constants), uniform buffers (cached by content, so a training
// step that repeats its shapes creates none), bind groups (cached by pipeline + buffers), and one command
// encoder that collects a whole step's dispatches until something has to be submitted.
//
// It uses the standard WebGPU API only. Where the device comes from (Dawn in Node, navigator.gpu in a page)
// and how a .wgsl file is read are supplied by the caller: see engine/node/dawn.ts.

import { BufferPool } from './pool.ts';
import { Profiler } from './profiler.ts';
import { unrollLoops } from './unroll.ts';

/** Reads the WGSL source of a kernel by file name (for example 'matmul.wgsl'). */
export type ShaderLoader = (file: string) => string;

/** A uniform field that the shader declares as f32; plain numbers are written as i32/u32. */
export class F32 {
  constructor(readonly value: number) {}
}
export const f32 = (v: number) => new F32(v);
export type Param = number | F32;

export class GpuError extends Error {
  override name = 'GpuError';
}

export interface DispatchSpec {
  /**
   * Shader file in shaders/, e.g. 'matmul.wgsl'; 'a.wgsl+b.wgsl' compiles the files concatenated in that order
   * (a kernel whose operand loads come in variants keeps each variant in its own small file, listed first).
   */
  shader: string;
  /** Values for the shader's `override` declarations; each distinct set is its own cached pipeline. */
  constants?: Record<string, number>;
  /** The fields of the shader's `Params` uniform (binding 0), in declaration order. */
  params?: Param[];
  /**
   * Buffers bound at 1, 2, … in order (storage, or a uniform where the shader says so); a GPUBufferBinding binds
   * a window of a buffer (e.g. one column block of packed weights).
   */
  buffers: (GPUBuffer | GPUBufferBinding)[];
  workgroups: [number, number?, number?];
  /** Names the op in error messages (defaults to the shader's name). */
  label?: string;
  /** Groups dispatches in profiles (defaults to the kernel's file name, the last of `shader`). */
  profileLabel?: string;
  /**
   * Unroll the kernel's constant loops in the text on every driver, not only on those that do not unroll loops
   * themselves (Runtime.unrollLoops): for kernels whose loop order Mesa would not unroll as written.
   */
  unroll?: boolean;
}

const asBinding = (b: GPUBuffer | GPUBufferBinding): GPUBufferBinding => ('buffer' in b ? b : { buffer: b });
const bindingKey = (b: GPUBuffer | GPUBufferBinding, id: number) =>
  'buffer' in b ? `${id}@${b.offset ?? 0}+${b.size ?? ''}` : `${id}`;

const MAX_CACHED_BIND_GROUPS = 20000;
/** Dispatches collected before a submit: early submits let the driver start while JS keeps encoding. */
const SUBMIT_EVERY = 96;

export class Runtime {
  readonly queue: GPUQueue;
  readonly pool: BufferPool;
  readonly limits: GPUSupportedLimits;
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private pipelineIds = new WeakMap<GPUComputePipeline, number>();
  private bufferIds = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  private uniforms = new Map<string, GPUBuffer>();
  private bindGroups = new Map<string, GPUBindGroup>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pendingDispatches = 0;
  private errors: string[] = [];
  private lost: string | null = null;
  /** Labels of the most recent dispatches: a device error names the kernels that may have caused it. */
  private recentLabels: string[] = [];
  dispatchCount = 0;
  submitCount = 0;
  /**
   * Whether kernels get their constant loops unrolled in the WGSL text before compiling (engine/unroll.ts): for
   * drivers that do not unroll them (SwiftShader), where it made the register-blocked kernels 4–6× faster. One
   * module per (kernel, constants) then, instead of one per kernel.
   */
  unrollLoops: boolean;
  /**
   * Whether kernels may share loaded values across 8-invocation workgroups with subgroupBroadcast: the device has
   * the 'subgroups' feature and a workgroup of 8 is one subgroup of 8 (checked by detectSubgroups). On llvmpipe a
   * value one lane loaded and broadcast costs about a fifth of a uniform-buffer read (measured in
   * docs/cpu-drivers.md), so the kernels read shared operands (weights, B) that way where this holds.
   */
  subgroups8 = false;

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
    private loadShader: ShaderLoader,
  ) {
    this.queue = device.queue;
    this.limits = device.limits;
    this.unrollLoops = /swiftshader/i.test(adapterDescription);
    this.pool = new BufferPool(device, device.limits.maxStorageBufferBindingSize);
    device.addEventListener('uncapturederror', (event) => {
      const e = (event as GPUUncapturedErrorEvent).error;
      this.errors.push(e.message);
    });
    device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lost = `device lost (${info.reason}): ${info.message}`;
    });
  }

  // ---- pipelines ------------------------------------------------------------------------------------------

  private module(file: string, constants: Record<string, number>, unroll: boolean): GPUShaderModule {
    const key = unroll ? file + JSON.stringify(constants) : file;
    let m = this.modules.get(key);
    if (!m) {
      const source = file.split('+').map((f) => this.loadShader(f)).join('\n');
      const code = unroll ? unrollLoops(source, constants) : source;
      this.device.pushErrorScope('validation');
      m = this.device.createShaderModule({ code, label: `shaders/${file}` });
      // Compilation errors arrive asynchronously; they are raised at the next check() with the file named.
      this.device.popErrorScope().then((err) => {
        if (err) this.errors.push(`WGSL compile error in shaders/${file}: ${err.message}`);
      });
      this.modules.set(key, m);
    }
    return m;
  }

  pipeline(file: string, constants: Record<string, number> = {}, unroll = false): GPUComputePipeline {
    unroll ||= this.unrollLoops;
    const key = file + JSON.stringify(constants) + (unroll ? ' unrolled' : '');
    let p = this.pipelines.get(key);
    if (!p) {
      const label = `${file}${Object.keys(constants).length ? JSON.stringify(constants) : ''}`;
      const module = this.module(file, constants, unroll);
      this.device.pushErrorScope('validation');
      p = this.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants } });
      this.device.popErrorScope().then((err) => {
        if (err) this.errors.push(`cannot build kernel ${label} (shaders/${file}): ${err.message}`);
      });
      this.pipelines.set(key, p);
      this.pipelineIds.set(p, this.nextId++);
    }
    return p;
  }

  // ---- encoding -------------------------------------------------------------------------------------------

  private id(b: GPUBuffer): number {
    let id = this.bufferIds.get(b);
    if (id === undefined) this.bufferIds.set(b, (id = this.nextId++));
    return id;
  }

  /** Uniform buffers are immutable and shared by content, so no write can race with queued work. */
  private uniform(params: Param[]): GPUBuffer {
    const words = Math.max(4, Math.ceil(params.length / 4) * 4);
    const data = new ArrayBuffer(words * 4);
    const i32 = new Int32Array(data);
    const fl = new Float32Array(data);
    params.forEach((p, i) => {
      if (p instanceof F32) fl[i] = p.value;
      else i32[i] = p;
    });
    const key = Array.from(new Uint32Array(data)).join(',');
    let buf = this.uniforms.get(key);
    if (!buf) {
      buf = this.device.createBuffer({
        size: data.byteLength,
        usage: GPUBufferUsage.UNIFORM,
        mappedAtCreation: true,
        label: 'params',
      });
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data));
      buf.unmap();
      this.uniforms.set(key, buf);
    }
    return buf;
  }

  private bindGroup(pipeline: GPUComputePipeline, buffers: (GPUBuffer | GPUBufferBinding)[], label: string): GPUBindGroup {
    const key = this.pipelineIds.get(pipeline) + ':' + buffers.map((b) => bindingKey(b, this.id(asBinding(b).buffer))).join(',');
    let bg = this.bindGroups.get(key);
    if (!bg) {
      if (this.bindGroups.size >= MAX_CACHED_BIND_GROUPS) this.bindGroups.clear();
      bg = this.device.createBindGroup({
        label,
        layout: pipeline.getBindGroupLayout(0),
        entries: buffers.map((b, binding) => ({ binding, resource: asBinding(b) })),
      });
      this.bindGroups.set(key, bg);
    }
    return bg;
  }

  dispatch(spec: DispatchSpec): void {
    const kernel = spec.shader.slice(spec.shader.lastIndexOf('+') + 1);   // the kernel; files before it are its variants
    const label = spec.label ?? kernel;
    const pipeline = this.pipeline(spec.shader, spec.constants, spec.unroll);
    const buffers = spec.params ? [this.uniform(spec.params), ...spec.buffers] : spec.buffers;
    const bg = this.bindGroup(pipeline, buffers, label);
    const [x, y = 1, z = 1] = spec.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new GpuError(`${label}: workgroup grid ${x}×${y}×${z} exceeds the limit of ${maxDim} per dimension`);
    }
    if (this.profiler) {
      // One pass per dispatch, timestamped at both ends.
      const enc = this.copyEncoder();
      const pass = enc.beginComputePass({ label, timestampWrites: this.profiler.next(spec.profileLabel ?? kernel) });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(x, y, z);
      pass.end();
      if (this.profiler.full) this.flushProfile();
    } else {
      if (!this.pass) {
        this.encoder ??= this.device.createCommandEncoder({ label: 'step' });
        this.pass = this.encoder.beginComputePass({ label });
      }
      this.pass.setPipeline(pipeline);
      this.pass.setBindGroup(0, bg);
      this.pass.dispatchWorkgroups(x, y, z);
    }
    this.dispatchCount++;
    this.recentLabels.push(label);
    if (this.recentLabels.length > 8) this.recentLabels.shift();
    if (++this.pendingDispatches >= SUBMIT_EVERY) this.submit();
  }

  // ---- profiling ----------------------------------------------------------------------------------------

  private profiler: Profiler | null = null;
  private profileReads: Promise<void>[] = [];

  /** Starts timing every dispatch (needs the adapter's 'timestamp-query' feature). */
  startProfile(): void {
    if (!this.device.features.has('timestamp-query')) throw new GpuError("profiling needs the adapter's 'timestamp-query' feature");
    this.submit();
    this.profiler = new Profiler(this.device);
  }

  private flushProfile(): void {
    if (!this.profiler) return;
    const r = this.profiler.resolve(this.copyEncoder());
    this.submit();
    if (r) this.profileReads.push(this.profiler.accumulate(r));
  }

  /** Stops timing and returns the total GPU time per kernel, largest first. */
  async stopProfile(): Promise<ReturnType<Profiler['table']>> {
    const p = this.profiler;
    if (!p) return [];
    this.flushProfile();
    this.profiler = null;
    await Promise.all(this.profileReads);
    this.profileReads = [];
    return p.table();
  }

  /** The encoder for copies and clears (outside any compute pass). */
  private copyEncoder(): GPUCommandEncoder {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    return (this.encoder ??= this.device.createCommandEncoder({ label: 'step' }));
  }

  clear(buffer: GPUBuffer, size: number): void {
    this.copyEncoder().clearBuffer(buffer, 0, Math.ceil(size / 4) * 4);
  }

  copy(src: GPUBuffer, dst: GPUBuffer, size: number): void {
    this.copyEncoder().copyBufferToBuffer(src, 0, dst, 0, Math.ceil(size / 4) * 4);
  }

  /** Frees the pool's idle buffers (and the bind groups that may point at them). */
  trim(): void {
    this.submit();
    this.bindGroups.clear();
    this.pool.trim();
  }

  /** Sends everything encoded so far to the GPU. Nothing waits. */
  submit(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
    if (this.encoder) {
      this.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submitCount++;
    }
    this.pendingDispatches = 0;
  }

  /**
   * Uploads data. queue.writeBuffer happens before any command not yet submitted, so pending commands (which
   * may still read the previous contents of a pooled buffer) are submitted first.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.submit();
    this.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /**
   * Sets subgroups8: runs shaders/subgroup_probe.wgsl on a few workgroups and keeps the subgroup kernels only if
   * every lane saw what they assume. Needs the device to have been created with the 'subgroups' feature.
   */
  async detectSubgroups(): Promise<boolean> {
    this.subgroups8 = false;
    if (!this.device.features.has('subgroups')) return false;
    const groups = 4;
    const bytes = groups * 16 * 4;
    const buf = this.device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC, label: 'subgroup probe' });
    try {
      this.dispatch({ shader: 'subgroup_probe.wgsl', buffers: [buf], workgroups: [groups] });
      const ok = new Uint32Array(await this.read(buf, bytes));
      this.subgroups8 = ok.every((v) => v === 1);
    } catch {
      this.subgroups8 = false;   // a driver that cannot compile or run it simply keeps the other kernels
    } finally {
      buf.destroy();
    }
    return this.subgroups8;
  }

  /** Copies a buffer's first `bytes` back to the CPU. The only place the engine waits on the GPU for data. */
  async read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    const size = Math.ceil(bytes / 4) * 4;
    const staging = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      label: 'readback',
    });
    this.copyEncoder().copyBufferToBuffer(buffer, 0, staging, 0, size);
    this.submit();
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.check();
      throw e;
    }
    const out = staging.getMappedRange().slice(0, bytes);
    staging.unmap();
    staging.destroy();
    this.check();
    return out;
  }

  /** Waits until the GPU has finished everything submitted so far, then raises any recorded device error. */
  async sync(): Promise<void> {
    this.submit();
    await this.queue.onSubmittedWorkDone();
    this.check();
  }

  private stagingFree: GPUBuffer[] = [];

  /**
   * Queues a copy of small tensors (a step's loss and accuracy counters) into a mapped-readable buffer and
   * returns a handle to collect them later. A training loop waits on step k−1's handle after submitting step k,
   * so the GPU always has the next step queued while the CPU reads the previous one: the loop is throttled to
   * one step in flight and the readback never stalls the device.
   */
  readLater(parts: { buffer: GPUBuffer; bytes: number }[]): PendingRead {
    const total = parts.reduce((a, p) => a + Math.ceil(p.bytes / 4) * 4, 0);
    const size = Math.max(256, Math.ceil(total / 256) * 256);
    const idx = this.stagingFree.findIndex((b) => b.size === size);
    const staging =
      idx >= 0
        ? this.stagingFree.splice(idx, 1)[0]
        : this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'readLater' });
    const enc = this.copyEncoder();
    let off = 0;
    for (const p of parts) {
      const b = Math.ceil(p.bytes / 4) * 4;
      enc.copyBufferToBuffer(p.buffer, 0, staging, off, b);
      off += b;
    }
    this.submit();
    return new PendingRead(this, staging, total);
  }

  /** @internal Called by PendingRead. */
  async collect(staging: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    try {
      await staging.mapAsync(GPUMapMode.READ);
    } catch (e) {
      this.check();
      throw e;
    }
    const out = staging.getMappedRange(0, Math.ceil(bytes / 4) * 4).slice(0, bytes);
    staging.unmap();
    this.stagingFree.push(staging);
    this.check();
    return out;
  }

  /** Throws the first device error (validation, out-of-memory, compile, device loss) seen since last call. */
  check(): void {
    if (this.lost) throw new GpuError(`${this.lost} (recent kernels: ${this.recentLabels.join(', ')})`);
    if (this.errors.length) {
      const msg = this.errors.join('\n');
      this.errors = [];
      throw new GpuError(`GPU error: ${msg}\n(recent kernels: ${this.recentLabels.join(', ')})`);
    }
  }
}

/** A readback queued by Runtime.readLater; wait() resolves with the bytes once the GPU has produced them. */
export class PendingRead {
  constructor(
    private rt: Runtime,
    private staging: GPUBuffer,
    private bytes: number,
  ) {}
  wait(): Promise<ArrayBuffer> {
    return this.rt.collect(this.staging, this.bytes);
  }
}

let current: Runtime | null = null;

export function setRuntime(rt: Runtime | null): void {
  current = rt;
}

/** The active runtime; ops call this. */
export function runtime(): Runtime {
  if (!current) {
    throw new GpuError('no GPU device: call `await initGpu()` (engine/node/dawn.ts in Node) before creating tensors');
  }
  return current;
}
