// Batch normalisation over the channels of NHWC data, with optional fused ReLU.
// Forward: a per-channel statistics pass (which also updates the running averages in training mode) and one
// elementwise pass. Backward: one reduction pass (Σg, Σg·x̂ — also dbeta, dgamma) and one elementwise pass.

import { needsGrad, record } from '../autograd.ts';
import { f32 } from '../runtime.ts';
import { Tensor } from '../tensor.ts';
import { dispatch, elementGrid, shapeStr } from './util.ts';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** Apply ReLU to the output in the same pass. */
  relu?: boolean;
}

/**
 * x [..., C] (NHWC or [N, C]); gamma, beta, runningMean, runningVar [C]. In training mode the running
 * averages are updated in place on the GPU.
 */
export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  const C = x.shape[x.shape.length - 1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    if (t.size !== C) throw new RangeError(`batchNorm: ${name} ${shapeStr(t.shape)} does not match ${C} channels of x ${shapeStr(x.shape)}`);
  }
  const R = x.size / C;
  const { training, momentum = 0.1, eps = 1e-5, relu = false } = opts;
  const stats = new Tensor([2, C]);
  dispatch({
    shader: 'bn_stats.wgsl',
    constants: { TRAIN: training ? 1 : 0 },
    params: [R, C, f32(eps), f32(momentum)],
    buffers: [x.buffer, runningMean.buffer, runningVar.buffer, stats.buffer],
    workgroups: [C],
    label: 'batchnorm stats',
  });
  const y = new Tensor([...x.shape]);
  dispatch({
    shader: 'bn_apply.wgsl',
    constants: { RELU: relu ? 1 : 0, C },
    params: [x.size],
    buffers: [x.buffer, stats.buffer, gamma.buffer, beta.buffer, y.buffer],
    workgroups: elementGrid(x.size),
    label: relu ? 'batchnorm+relu' : 'batchnorm',
  });
  if (!needsGrad(x, gamma, beta)) {
    stats.dispose();
    return y;
  }
  return record(y, relu ? 'batchnorm+relu' : 'batchnorm', [x, gamma, beta], (g) => {
    const sums = new Tensor([2, C]);
    dispatch({
      shader: 'bn_backward_reduce.wgsl',
      constants: { RELU: relu ? 1 : 0 },
      params: [R, C],
      buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, sums.buffer],
      workgroups: [C],
      label: 'batchnorm backward reduce',
    });
    let dx: Tensor | null = null;
    if (needsGrad(x)) {
      dx = new Tensor([...x.shape]);
      dispatch({
        shader: 'bn_backward_apply.wgsl',
        constants: { RELU: relu ? 1 : 0, TRAIN: training ? 1 : 0, C },
        params: [x.size, R],
        buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, sums.buffer, gamma.buffer, dx.buffer],
        workgroups: elementGrid(x.size),
        label: 'batchnorm backward',
      });
    }
    // sums = [Σg, Σg·x̂] = [dbeta, dgamma]; two views of one buffer.
    const flat = sums.reshape([2 * C]);
    const dbeta = splitHalf(flat, 0, C);
    const dgamma = splitHalf(flat, 1, C);
    flat.dispose();
    sums.dispose();
    return [dx, dgamma, dbeta];
  });
}

/** Copies half h of a [2C] tensor into a new [C] tensor. */
function splitHalf(t: Tensor, h: number, C: number): Tensor {
  const out = new Tensor([C]);
  dispatch({
    shader: 'slice.wgsl',
    params: [C, h * C],
    buffers: [t.buffer, out.buffer],
    workgroups: elementGrid(C),
    label: 'slice',
  });
  return out;
}
