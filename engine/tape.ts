// The tape: how an op records that it must be differentiated. An op's output gets a Node — its inputs and a rule
// that maps the output's gradient to the inputs' gradients — when any input needs a gradient and recording is
// on. autograd.ts walks these nodes backwards; ops.ts has every op's rule.

import type { Tensor } from './tensor.ts';

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
export function record(out: Tensor, op: string, inputs: Tensor[], backward: (grad: Tensor) => (Tensor | null)[]): Tensor {
  if (needsGrad(...inputs)) out.node = { op, inputs, backward };
  return out;
}
