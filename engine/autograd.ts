// Reverse-mode autograd, micrograd-style. Ops record a Node on their output (tape.ts): its inputs and the rule
// that maps the output's gradient to theirs (ops.ts has every rule). backward() walks the graph in reverse
// topological order, sums gradients that meet, stores leaf gradients in `.grad`, disposes every intermediate
// gradient as soon as it has been used, and frees the graph.

import { binary, filled } from './kernels/elementwise.ts';
import { Tensor, keep } from './tensor.ts';

export { noGrad, isGradEnabled, needsGrad, record, type Node } from './tape.ts';

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
  grads.set(root, grad ?? filled([...root.shape], 1));
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
          grads.set(inp, binary('add', prev, gi));
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
    const sum = binary('add', t.grad, view);
    t.grad.dispose();
    view.dispose();
    t.grad = keep(sum);
  } else {
    t.grad = keep(view);
  }
}

/** A gradient rule must return a gradient of its input's exact shape (not only its size). */
function checkShape(g: Tensor, t: Tensor, op: string): void {
  if (g.shape.length !== t.shape.length || g.shape.some((d, i) => d !== t.shape[i])) {
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
