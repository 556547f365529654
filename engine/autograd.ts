// Reverse-mode autograd, micrograd-style: every op that produces a tensor from inputs that need gradients
// attaches a Node — its inputs and a closure that maps the output's gradient to the inputs' gradients.
// backward() walks the graph in reverse topological order, sums gradients that meet, stores leaf gradients
// in `.grad`, disposes every intermediate gradient as soon as it has been used, and frees the graph.

import { Tensor, keep, setReshapeGrad } from './tensor.ts';
import { add, filled } from './ops/elementwise.ts';

export interface Node {
  op: string;
  inputs: Tensor[];
  /** Gradients of the inputs (null where an input needs none), given the output's gradient. */
  backward: (grad: Tensor) => (Tensor | null)[];
}

let gradEnabled = true;

/** Runs fn with autograd off: nothing is recorded and ops save nothing for backward (teachers, evaluation). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** True when an op on these inputs must be recorded (so it should keep what its backward needs). */
export function needsGrad(...inputs: (Tensor | null | undefined)[]): boolean {
  return gradEnabled && inputs.some((t) => t && (t.requiresGrad || t.node));
}

/** Attaches the backward rule to `out` if any input needs a gradient. Returns `out`. */
export function record(
  out: Tensor,
  op: string,
  inputs: Tensor[],
  backward: (grad: Tensor) => (Tensor | null)[],
): Tensor {
  if (needsGrad(...inputs)) out.node = { op, inputs, backward };
  return out;
}

setReshapeGrad((out, input) => {
  record(out, 'reshape', [input], (g) => [g.reshape([...input.shape])]);
});

function topoSort(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep networks would overflow the JS stack with recursion.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    for (const inp of t.node?.inputs ?? []) if (!seen.has(inp)) stack.push([inp, false]);
  }
  return order;
}

/**
 * Computes d(root)/d(leaf) for every leaf with requiresGrad, adding into leaf.grad (gradient accumulation:
 * call zeroGrad between steps). `grad` defaults to ones (root is usually a scalar loss).
 */
export function backward(root: Tensor, grad?: Tensor): void {
  if (!root.node && !root.requiresGrad) {
    throw new Error('backward: the tensor does not depend on anything that requires a gradient');
  }
  const grads = new Map<Tensor, Tensor>();
  grads.set(root, grad ?? filled([...root.shape], 1, root));
  const order = topoSort(root);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const g = grads.get(t);
    if (!g) continue;
    grads.delete(t);
    if (t.node) {
      const inputGrads = t.node.backward(g);
      t.node.inputs.forEach((inp, k) => {
        const gi = inputGrads[k];
        if (!gi) return;
        if (!inp.requiresGrad && !inp.node) {
          gi.dispose();
          return;
        }
        checkShape(gi, inp, t.node!.op);
        const prev = grads.get(inp);
        if (prev) {
          grads.set(inp, add(prev, gi));
          prev.dispose();
          gi.dispose();
        } else {
          grads.set(inp, gi);
        }
      });
      if (!inputGrads.includes(g) && g !== grad) g.dispose();
      t.node = null; // free the graph as we go: saved activations can then be disposed by tidy()
    } else if (t.requiresGrad) {
      accumulateLeaf(t, g === grad ? g.reshape([...g.shape]) : g);
    }
  }
}

function accumulateLeaf(t: Tensor, g: Tensor): void {
  const view = g.shape.length === t.shape.length ? g : g.reshape([...t.shape]);
  if (view !== g) g.dispose();
  if (t.grad) {
    const sum = add(t.grad, view);
    t.grad.dispose();
    view.dispose();
    t.grad = keep(sum);
  } else {
    t.grad = keep(view);
  }
}

function checkShape(g: Tensor, t: Tensor, op: string): void {
  if (g.size !== t.size) {
    throw new Error(`backward of ${op}: gradient shape [${g.shape.join(', ')}] does not match input [${t.shape.join(', ')}]`);
  }
}

/** Drops the gradients of the given tensors (before the next step's backward). */
export function zeroGrad(params: Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}
