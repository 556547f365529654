// Module: a tree of named parameters, buffers (running statistics) and sub-modules, with train/eval mode and
// a state dict that uses PyTorch's names (`layer1.0.conv1.weight`) and layouts, so checkpoints can be
// exchanged. Internally conv weights are [KH, KW, Cin, Cout] (what the NHWC kernels want); they are
// converted to PyTorch's [Cout, Cin, KH, KW] on export and back on import.

import { Tensor, keep } from '../tensor.ts';

export type Layout = 'plain' | 'conv';

export interface StateEntry {
  shape: number[];
  data: Float32Array;
}

export class Module {
  training = true;
  private params = new Map<string, Tensor>();
  private buffers = new Map<string, Tensor>();
  private children = new Map<string, Module>();
  private layouts = new Map<string, Layout>();

  protected param(name: string, t: Tensor, layout: Layout = 'plain'): Tensor {
    t.requiresGrad = true;
    t.name = name;
    this.params.set(name, keep(t));
    this.layouts.set(name, layout);
    return t;
  }

  protected buffer(name: string, t: Tensor): Tensor {
    t.name = name;
    this.buffers.set(name, keep(t));
    this.layouts.set(name, 'plain');
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.set(name, m);
    return m;
  }

  /** [name, tensor] for every parameter, depth-first in registration order (PyTorch's order). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters and buffers with their layouts, in state-dict order. */
  namedState(prefix = ''): [string, Tensor, Layout][] {
    const out: [string, Tensor, Layout][] = [];
    for (const [n, t] of this.params) out.push([prefix + n, t, this.layouts.get(n)!]);
    for (const [n, t] of this.buffers) out.push([prefix + n, t, 'plain']);
    for (const [n, c] of this.children) out.push(...c.namedState(`${prefix}${n}.`));
    return out;
  }

  parameterCount(): number {
    return this.parameters().reduce((a, t) => a + t.size, 0);
  }

  train(on = true): this {
    this.training = on;
    for (const c of this.children.values()) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, t] of this.namedState()) {
      t.grad?.dispose();
      t.dispose();
    }
  }
}

const CONV_TO_TORCH = [3, 2, 0, 1]; // [KH, KW, Cin, Cout] → [Cout, Cin, KH, KW]
const CONV_FROM_TORCH = [2, 3, 1, 0]; // and back

function permuteHost(data: Float32Array, shape: number[], perm: number[]): { data: Float32Array; shape: number[] } {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const out = new Float32Array(data.length);
  const idx = new Array(shape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < perm.length; d++) src += idx[d] * inStrides[perm[d]];
    out[o] = data[src];
    for (let d = perm.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return { data: out, shape: outShape };
}

/** A conv weight [KH, KW, Cin, Cout] (ours) as PyTorch's [Cout, Cin, KH, KW]. */
export function convToTorch(data: Float32Array, shape: readonly number[]): Float32Array {
  return permuteHost(data, [...shape], CONV_TO_TORCH).data;
}

/** A PyTorch conv weight [Cout, Cin, KH, KW] in our [KH, KW, Cin, Cout] layout. */
export function convFromTorch(data: Float32Array, torchShape: readonly number[]): Float32Array {
  return permuteHost(data, [...torchShape], CONV_FROM_TORCH).data;
}

/** Reads every parameter and buffer back, in PyTorch names and layouts. */
export async function stateDict(m: Module): Promise<Map<string, StateEntry>> {
  const out = new Map<string, StateEntry>();
  for (const [name, t, layout] of m.namedState()) {
    const data = await t.readF32();
    out.set(name, layout === 'conv' ? permuteHost(data, [...t.shape], CONV_TO_TORCH) : { shape: [...t.shape], data });
  }
  return out;
}

export class StateDictError extends Error {
  override name = 'StateDictError';
}

/** Expected PyTorch shape of each entry (what a checkpoint must contain). */
export function expectedShapes(m: Module): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [name, t, layout] of m.namedState()) {
    out.set(name, layout === 'conv' ? CONV_TO_TORCH.map((p) => t.shape[p]) : [...t.shape]);
  }
  return out;
}

/** Writes a state dict into the module; names the first entry that is missing or differs in shape. */
export function loadStateDict(m: Module, state: Map<string, StateEntry>, source = 'state dict'): void {
  const expected = expectedShapes(m);
  for (const [name, shape] of expected) {
    const e = state.get(name);
    if (!e) throw new StateDictError(`${source}: missing tensor '${name}' (expected shape [${shape.join(', ')}])`);
    const same = e.shape.length === shape.length && e.shape.every((d, i) => d === shape[i]);
    if (!same) {
      throw new StateDictError(
        `${source}: tensor '${name}' has shape [${e.shape.join(', ')}], the model expects [${shape.join(', ')}]`,
      );
    }
  }
  for (const name of state.keys()) {
    if (!expected.has(name) && !name.endsWith('num_batches_tracked')) {
      throw new StateDictError(`${source}: unexpected tensor '${name}' (not in this model)`);
    }
  }
  for (const [name, t, layout] of m.namedState()) {
    const e = state.get(name)!;
    const data = layout === 'conv' ? convFromTorch(e.data, e.shape) : e.data;
    t.write(data);
  }
}


/** A module that only holds named children (PyTorch's nn.Sequential/ModuleList, for naming). */
export class Container extends Module {
  add<M extends Module>(name: string, m: M): M {
    return this.child(name, m);
  }
}
