// Tensor: a shape, a dtype and a pooled GPU buffer. Views (reshape) share the buffer through a reference-counted
// Storage, so reshaping never copies. Ownership is explicit: dispose() returns the buffer to the pool, and
// tidy(fn) disposes every tensor created inside fn except the ones it returns or keep()s — the way a training
// step frees its activations and gradients without any per-tensor bookkeeping in user code.

import { Rng } from './random.ts';
import { runtime } from './runtime/index.ts';
import { record, type Node } from './tape.ts';

export type DType = 'f32' | 'i32';

class Storage {
  refs = 1;
  constructor(
    readonly buffer: GPUBuffer,
    readonly bytes: number,
  ) {}
}

let scopes: Set<Tensor>[] = [];
let liveTensors = 0;

export class Tensor {
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient of a leaf tensor after backward(). */
  grad: Tensor | null = null;
  /** How this tensor was computed, when it is part of the autograd graph. */
  node: Node | null = null;
  /** Optional name (parameters carry their state-dict name). */
  name = '';
  private storage: Storage | null;

  constructor(
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    storage?: Storage,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid tensor shape [${shape.join(', ')}]`);
    }
    if (storage) {
      storage.refs++;
      this.storage = storage;
    } else {
      const bytes = this.size * 4;
      this.storage = new Storage(runtime().pool.acquire(bytes, `tensor [${shape.join(',')}]`), bytes);
    }
    liveTensors++;
    scopes[scopes.length - 1]?.add(this);
  }

  get buffer(): GPUBuffer {
    if (!this.storage) throw new Error(`tensor ${this.describe()} used after dispose()`);
    return this.storage.buffer;
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  describe(): string {
    return `${this.name ? this.name + ' ' : ''}[${this.shape.join(', ')}]`;
  }

  /** A view with a new shape over the same buffer (one dimension may be -1). No copy, no autograd cost. */
  reshape(shape: number[]): Tensor {
    const s = inferShape(shape, this.size, this.shape);
    const out = new Tensor(s, this.dtype, this.storage ?? undefined);
    // The gradient of a view is the output gradient viewed back in the input's shape.
    return record(out, 'reshape', [this], (g) => [g.reshape([...this.shape])]);
  }

  /** The same values as a constant: a view that autograd does not look through (stop-gradient). */
  detach(): Tensor {
    return new Tensor([...this.shape], this.dtype, this.storage ?? undefined);
  }

  /** Reads the values back to the CPU. Submits pending work and waits for it. */
  async read(): Promise<Float32Array | Int32Array> {
    const bytes = await runtime().read(this.buffer, this.size * 4);
    return this.dtype === 'i32' ? new Int32Array(bytes) : new Float32Array(bytes);
  }

  async readF32(): Promise<Float32Array> {
    return (await this.read()) as Float32Array;
  }

  /** Reads a one-element tensor as a number. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new RangeError(`item() needs a one-element tensor, got ${this.describe()}`);
    return (await this.read())[0];
  }

  /** Replaces the contents from CPU data of the same size (used for inputs and loading checkpoints). */
  write(data: ArrayLike<number>): this {
    if (data.length !== this.size) {
      throw new RangeError(`write: ${data.length} values for tensor ${this.describe()} of ${this.size}`);
    }
    const arr = this.dtype === 'i32' ? Int32Array.from(data) : Float32Array.from(data);
    runtime().write(this.buffer, arr);
    return this;
  }

  dispose(): void {
    if (!this.storage) return;
    if (--this.storage.refs === 0) runtime().pool.release(this.storage.buffer);
    this.storage = null;
    // The node stays: a view of this tensor may still need to back-propagate through it.
    liveTensors--;
    for (const s of scopes) s.delete(this);
  }
}

function inferShape(shape: number[], size: number, from: readonly number[]): number[] {
  const s = [...shape];
  const hole = s.indexOf(-1);
  if (hole >= 0) {
    const known = s.reduce((a, b, i) => (i === hole ? a : a * b), 1);
    s[hole] = known === 0 ? 0 : size / known;
  }
  const n = s.reduce((a, b) => a * b, 1);
  if (n !== size || !s.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new RangeError(`reshape: cannot view [${from.join(', ')}] (${size} elements) as [${shape.join(', ')}]`);
  }
  return s;
}

// ---- creation -------------------------------------------------------------------------------------------

export function tensor(data: ArrayLike<number>, shape: number[], dtype: DType = 'f32'): Tensor {
  const t = new Tensor(shape, dtype);
  return t.write(data);
}

export function zeros(shape: number[], dtype: DType = 'f32'): Tensor {
  const t = new Tensor(shape, dtype);
  runtime().clear(t.buffer, t.size * 4);
  return t;
}

export function full(shape: number[], value: number): Tensor {
  return tensor(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(value), shape);
}

export const ones = (shape: number[]) => full(shape, 1);

/** Normal(mean, std) values from a seeded generator: the same seed gives the same tensor on every device. */
export function randn(shape: number[], rng: Rng, std = 1, mean = 0): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = mean + std * rng.normal();
  return tensor(data, shape);
}

export function uniform(shape: number[], rng: Rng, lo: number, hi: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = lo + (hi - lo) * rng.next();
  return tensor(data, shape);
}

// ---- ownership ------------------------------------------------------------------------------------------

/** Removes tensors from every enclosing tidy() scope: they live until disposed explicitly. */
export function keep<T extends Tensor>(t: T): T {
  for (const s of scopes) s.delete(t);
  return t;
}

type Kept = Tensor | Tensor[] | Record<string, Tensor> | void | number | undefined;

/** Runs fn and disposes every tensor created during it, except those in its result or keep()-ed. */
export function tidy<R extends Kept>(fn: () => R): R {
  const scope = new Set<Tensor>();
  scopes.push(scope);
  let result: R;
  try {
    result = fn();
  } catch (e) {
    // Nothing survives a throw: free what fn made before the error, so a caught failure leaks no GPU memory.
    scopes.pop();
    for (const t of scope) t.dispose();
    throw e;
  }
  scopes.pop();
  const survivors = new Set<Tensor>();
  if (result instanceof Tensor) survivors.add(result);
  else if (Array.isArray(result)) result.forEach((t) => survivors.add(t));
  else if (result && typeof result === 'object') Object.values(result).forEach((t) => survivors.add(t));
  for (const t of scope) {
    if (survivors.has(t)) scopes[scopes.length - 1]?.add(t);
    else t.dispose();
  }
  return result;
}

export function liveTensorCount(): number {
  return liveTensors;
}
