// SGD with momentum, Nesterov and weight decay (PyTorch semantics), updating parameters in place on the GPU.
// The learning rate lives in one small uniform buffer that is rewritten when it changes, so a schedule that
// changes it every step creates no new buffers.

import { runtime } from '../runtime/index.ts';
import { Tensor, keep, zeros } from '../tensor.ts';
import { sgdUpdate } from '../kernels/sgd.ts';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  readonly nesterov: boolean;
  readonly velocity: Tensor[];
  private uniform: GPUBuffer;
  private writtenLr = NaN;

  constructor(readonly params: Tensor[], opts: SgdOptions) {
    this.lr = opts.lr;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.lr >= 0) || !(this.momentum >= 0) || !(this.weightDecay >= 0)) {
      throw new RangeError(`SGD: lr, momentum and weight decay must be ≥ 0 (got ${this.lr}, ${this.momentum}, ${this.weightDecay})`);
    }
    this.velocity = params.map((p) => keep(zeros([...p.shape])));
    this.uniform = runtime().device.createBuffer({
      size: 16,
      usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
      label: 'sgd params',
    });
  }

  /** Encodes the update of every parameter that has a gradient. Reads nothing back. */
  step(): void {
    const rt = runtime();
    if (this.lr !== this.writtenLr) {
      const u = new ArrayBuffer(16);
      new Float32Array(u).set([this.lr, this.momentum, this.weightDecay, 0]);
      rt.write(this.uniform, new Float32Array(u));
      this.writtenLr = this.lr;
    }
    this.params.forEach((p, i) => {
      if (p.grad) sgdUpdate(p, p.grad, this.velocity[i], this.uniform, this.nesterov);
    });
  }

  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  dispose(): void {
    this.velocity.forEach((v) => v.dispose());
    this.uniform.destroy();
  }
}
