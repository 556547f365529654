// Compiled kernels: one shader module per file (or per file and constants where loops get unrolled in the text)
// and one pipeline per file and override constants. A kernel named 'a.wgsl+b.wgsl' is compiled from the files
// concatenated in that order: a variant (how an operand is read) first, the kernel last.

import { unrollLoops } from '../unroll.ts';
import type { DeviceErrors } from './errors.ts';

/** Reads the WGSL source of a kernel by file name (for example 'matmul.wgsl'). */
export type ShaderLoader = (file: string) => string;

export class Pipelines {
  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private ids = new WeakMap<GPUComputePipeline, number>();

  constructor(
    private device: GPUDevice,
    private loadShader: ShaderLoader,
    private errors: DeviceErrors,
    private nextId: () => number,
  ) {}

  /** Compiled pipelines: one per kernel and constants, so bounded by the shapes a program uses. */
  get size(): number {
    return this.pipelines.size;
  }

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
        if (err) this.errors.add(`WGSL compile error in shaders/${file}: ${err.message}`);
      });
      this.modules.set(key, m);
    }
    return m;
  }

  get(file: string, constants: Record<string, number>, unroll: boolean): GPUComputePipeline {
    const key = file + JSON.stringify(constants) + (unroll ? ' unrolled' : '');
    let p = this.pipelines.get(key);
    if (!p) {
      const label = `${file}${Object.keys(constants).length ? JSON.stringify(constants) : ''}`;
      const module = this.module(file, constants, unroll);
      this.device.pushErrorScope('validation');
      p = this.device.createComputePipeline({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants } });
      this.device.popErrorScope().then((err) => {
        if (err) this.errors.add(`cannot build kernel ${label} (shaders/${file}): ${err.message}`);
      });
      this.pipelines.set(key, p);
      this.ids.set(p, this.nextId());
    }
    return p;
  }

  id(p: GPUComputePipeline): number {
    return this.ids.get(p)!;
  }
}
