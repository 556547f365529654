// The runtime owns the device and turns "launch kernel K on these buffers" into GPU commands. Its parts, one job
// each: pipelines.ts (compiled kernels), uniforms (parameters packed by contract.ts, buffers shared by content,
// so a step that repeats its shapes creates none), bind_groups.ts, commands.ts (one encoder per step),
// readback.ts, errors.ts, and what the device can do (capabilities.ts, probed by subgroups.ts and unrolling.ts).
//
// It uses the standard WebGPU API only. Where the device comes from (Dawn in Node, navigator.gpu in a page)
// and how a .wgsl file is read are supplied by the caller: see engine/node/dawn.ts.

import { BufferPool } from '../pool.ts';
import { Profiler } from '../profiler.ts';
import { BindGroups } from './bind_groups.ts';
import { Commands } from './commands.ts';
import { packParams, shaderFiles, type FieldType, type KernelContract, type Launch } from './contract.ts';
import { DeviceErrors, GpuError } from './errors.ts';
import { Pipelines, type ShaderLoader } from './pipelines.ts';
import { Readback, type PendingRead } from './readback.ts';
import { featureCapabilities, type Capabilities } from './capabilities.ts';
import { probeSubgroups8 } from './subgroups.ts';
import { measureUnrolling, type UnrollingMeasurement } from './unrolling.ts';

/** Cached uniform buffers (16–64 bytes each) before they are all forgotten: a few steps' worth of distinct ones. */
const MAX_UNIFORMS = 4096;

export class Runtime {
  readonly queue: GPUQueue;
  readonly pool: BufferPool;
  readonly limits: GPUSupportedLimits;
  private errors: DeviceErrors;
  private pipelines: Pipelines;
  private bindGroups: BindGroups;
  private commands: Commands;
  private readback: Readback;
  private uniforms = new Map<string, GPUBuffer>();
  private lastId = 0;
  dispatchCount = 0;
  /** What the device can do and needs, by name (capabilities.ts): what kernels ask, never the adapter's name. */
  readonly caps: Capabilities;

  constructor(
    readonly device: GPUDevice,
    readonly adapterDescription: string,
    loadShader: ShaderLoader,
  ) {
    const nextId = () => ++this.lastId;
    this.queue = device.queue;
    this.limits = device.limits;
    this.caps = featureCapabilities(device);
    this.pool = new BufferPool(device, device.limits.maxStorageBufferBindingSize);
    this.errors = new DeviceErrors(device);
    this.pipelines = new Pipelines(device, loadShader, this.errors, nextId);
    this.bindGroups = new BindGroups(device, nextId);
    this.commands = new Commands(device);
    this.readback = new Readback(device, this.commands, this.errors);
  }

  get submitCount(): number {
    return this.commands.submitCount;
  }

  /** The compiled pipeline for shader files ('a.wgsl+b.wgsl') and override constants (compiling it if new). */
  pipeline(files: string, constants: Record<string, number> = {}, unroll = false): GPUComputePipeline {
    return this.pipelines.get(files, constants, unroll || this.caps.unrollLoops);
  }

  /** Runs a kernel: its contract says how the named parameters and buffers are laid out. */
  launch<P extends Record<string, FieldType>, B extends string, C extends string, V extends string>(
    k: KernelContract<P, B, C, V>,
    l: Launch<P, B, C, V>,
  ): void {
    const label = l.label ?? k.shader;
    const constants = (l.constants ?? {}) as Record<string, number>;
    const pipeline = this.pipeline(shaderFiles(k, l.variant), constants, l.unroll);
    const named = k.bindings.map((b) => l.buffers[b]);
    const buffers = k.params ? [this.uniform(packParams(k.params, l.params ?? {}, label)), ...named] : named;
    const bg = this.bindGroups.get(pipeline, this.pipelines.id(pipeline), buffers, label);
    const [x, y = 1, z = 1] = l.workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > maxDim || y > maxDim || z > maxDim) {
      throw new GpuError(`${label}: workgroup grid ${x}×${y}×${z} exceeds the limit of ${maxDim} per dimension`);
    }
    const pass = this.profiler
      ? this.commands.encoderOutsidePass().beginComputePass({ label, timestampWrites: this.profiler.next(l.profileLabel ?? k.shader) })
      : this.commands.computePass(label);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) {
      pass.end(); // one pass per dispatch, timestamped at both ends
      if (this.profiler.full) this.flushProfile();
    }
    this.dispatchCount++;
    this.errors.ran(label);
    this.commands.dispatched();
  }

  /**
   * Uniform buffers are immutable and shared by content, so no write can race with queued work. A value that
   * changes every step (a scale from a schedule) makes a new one each time: past MAX_UNIFORMS they are all
   * forgotten at once, so a long run's memory stays flat.
   */
  private uniform(data: ArrayBuffer): GPUBuffer {
    const key = Array.from(new Uint32Array(data)).join(',');
    let buf = this.uniforms.get(key);
    if (!buf) {
      if (this.uniforms.size >= MAX_UNIFORMS) this.forgetUniforms();
      buf = this.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true, label: 'params' });
      new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data));
      buf.unmap();
      this.uniforms.set(key, buf);
    }
    return buf;
  }

  /**
   * Destroys every cached uniform buffer and the bind groups that point at them. The commands encoded so far
   * are submitted first: WebGPU frees a destroyed buffer only after the submitted work that uses it is done.
   */
  private forgetUniforms(): void {
    this.submit();
    this.bindGroups.clear();
    for (const b of this.uniforms.values()) b.destroy();
    this.uniforms.clear();
  }

  /** How many objects the runtime's caches hold: each stays bounded however long a run lasts. */
  cacheSizes(): { uniforms: number; bindGroups: number; pipelines: number; pooledBuffers: number } {
    return {
      uniforms: this.uniforms.size,
      bindGroups: this.bindGroups.size,
      pipelines: this.pipelines.size,
      pooledBuffers: this.pool.getStats().allocatedBuffers,
    };
  }

  // ---- copies, uploads, readback ----------------------------------------------------------------------------

  clear(buffer: GPUBuffer, size: number): void {
    this.commands.encoderOutsidePass().clearBuffer(buffer, 0, Math.ceil(size / 4) * 4);
  }

  copy(src: GPUBuffer, dst: GPUBuffer, size: number): void {
    this.commands.encoderOutsidePass().copyBufferToBuffer(src, 0, dst, 0, Math.ceil(size / 4) * 4);
  }

  /**
   * Uploads data. queue.writeBuffer happens before any command not yet submitted, so pending commands (which
   * may still read the previous contents of a pooled buffer) are submitted first.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, byteOffset = 0): void {
    this.submit();
    this.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Sends everything encoded so far to the GPU. Nothing waits. */
  submit(): void {
    this.commands.submit();
  }

  read(buffer: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    return this.readback.read(buffer, bytes);
  }

  readLater(parts: { buffer: GPUBuffer; bytes: number }[]): PendingRead {
    return this.readback.readLater(parts);
  }

  /** Waits until the GPU has finished everything submitted so far, then raises any recorded device error. */
  async sync(): Promise<void> {
    this.submit();
    await this.queue.onSubmittedWorkDone();
    this.check();
  }

  /** Throws the first device error seen since the last call. */
  check(): void {
    this.errors.check();
  }

  /** Frees the pool's idle buffers (and the bind groups that may point at them). */
  trim(): void {
    this.submit();
    this.bindGroups.clear();
    this.pool.trim();
  }

  /** Sets caps.subgroups8 (subgroups.ts). Needs the device to have been created with the 'subgroups' feature. */
  async detectSubgroups(): Promise<boolean> {
    this.caps.subgroups8 = false;
    this.caps.subgroups8 = await probeSubgroups8(this);
    return this.caps.subgroups8;
  }

  /** Sets caps.unrollLoops from a measurement (unrolling.ts); returns the measurement. */
  async detectLoopUnrolling(): Promise<UnrollingMeasurement> {
    const m = await measureUnrolling(this);
    this.caps.unrollLoops = m.unrollLoops;
    return m;
  }

  // ---- profiling ------------------------------------------------------------------------------------------

  private profiler: Profiler | null = null;
  private profileReads: Promise<void>[] = [];

  /** Starts timing every dispatch (needs the adapter's 'timestamp-query' feature). */
  startProfile(): void {
    if (!this.caps.timestampQuery) throw new GpuError("profiling needs the adapter's 'timestamp-query' feature");
    this.submit();
    this.profiler = new Profiler(this.device);
  }

  private flushProfile(): void {
    if (!this.profiler) return;
    const r = this.profiler.resolve(this.commands.encoderOutsidePass());
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
}

let current: Runtime | null = null;

export function setRuntime(rt: Runtime | null): void {
  current = rt;
}

/** The active runtime; kernels call this. */
export function runtime(): Runtime {
  if (!current) {
    throw new GpuError('no GPU device: call `await initGpu()` (engine/node/dawn.ts in Node) before creating tensors');
  }
  return current;
}
