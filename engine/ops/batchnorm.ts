// Batch normalisation over the channels of NHWC data, with optional fused ReLU.
// Forward: a per-channel statistics pass (which also updates the running averages in training mode and folds
// gamma and beta into one scale and shift) and one elementwise pass. Backward: one reduction pass (Σg, Σg·x̂ —
// also dbeta, dgamma — and the coefficients of dx) and one elementwise pass. With C % 4 = 0 every kernel works
// on four channels at a time (bn_*4.wgsl).

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
  // Channel counts that are multiples of 4 (every model here) take the vec4 kernels; others the scalar ones.
  const v4 = C % 4 === 0;
  const C4 = C / 4;
  const label = relu ? 'batchnorm+relu' : 'batchnorm';
  const stats = new Tensor([4, C]);
  const y = new Tensor([...x.shape]);
  if (v4) {
    dispatch({
      shader: 'bn_stats4.wgsl',
      constants: { TRAIN: training ? 1 : 0, C4 },
      params: [R, f32(eps), f32(momentum)],
      buffers: [x.buffer, runningMean.buffer, runningVar.buffer, gamma.buffer, beta.buffer, stats.buffer],
      workgroups: [C4],
      label: `${label} stats`,
    });
    dispatch({
      shader: 'bn_apply4.wgsl',
      constants: { RELU: relu ? 1 : 0, C4 },
      params: [x.size / 4],
      buffers: [x.buffer, stats.buffer, y.buffer],
      workgroups: elementGrid(x.size / 4),
      label,
    });
  } else {
    dispatch({
      shader: 'bn_stats.wgsl',
      constants: { TRAIN: training ? 1 : 0 },
      params: [R, C, f32(eps), f32(momentum)],
      buffers: [x.buffer, runningMean.buffer, runningVar.buffer, stats.buffer],
      workgroups: [C],
      label: `${label} stats`,
    });
    dispatch({
      shader: 'bn_apply.wgsl',
      constants: { RELU: relu ? 1 : 0, C },
      params: [x.size],
      buffers: [x.buffer, stats.buffer, gamma.buffer, beta.buffer, y.buffer],
      workgroups: elementGrid(x.size),
      label,
    });
  }
  if (!needsGrad(x, gamma, beta)) {
    stats.dispose();
    return y;
  }
  return record(y, label, [x, gamma, beta], (g) => {
    // sums = [Σg, Σg·x̂, …] per channel: its first two rows are dbeta and dgamma.
    const sums = new Tensor([5, C]);
    let dx: Tensor | null = null;
    if (v4) {
      dispatch({
        shader: 'bn_backward_reduce4.wgsl',
        constants: { RELU: relu ? 1 : 0, TRAIN: training ? 1 : 0, C4 },
        params: [R],
        buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, gamma.buffer, sums.buffer],
        workgroups: [C4],
        label: `${label} backward reduce`,
      });
      if (needsGrad(x)) {
        dx = new Tensor([...x.shape]);
        dispatch({
          shader: 'bn_backward_apply4.wgsl',
          constants: { RELU: relu ? 1 : 0, C4 },
          params: [x.size / 4],
          buffers: [g.buffer, x.buffer, y.buffer, sums.buffer, dx.buffer],
          workgroups: elementGrid(x.size / 4),
          label: `${label} backward`,
        });
      }
    } else {
      dispatch({
        shader: 'bn_backward_reduce.wgsl',
        constants: { RELU: relu ? 1 : 0 },
        params: [R, C],
        buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, sums.buffer],
        workgroups: [C],
        label: `${label} backward reduce`,
      });
      if (needsGrad(x)) {
        dx = new Tensor([...x.shape]);
        dispatch({
          shader: 'bn_backward_apply.wgsl',
          constants: { RELU: relu ? 1 : 0, TRAIN: training ? 1 : 0, C },
          params: [x.size, R],
          buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, sums.buffer, gamma.buffer, dx.buffer],
          workgroups: elementGrid(x.size),
          label: `${label} backward`,
        });
      }
    }
    const flat = sums.reshape([5 * C]);
    const dbeta = splitHalf(flat, 0, C);
    const dgamma = splitHalf(flat, 1, C);
    flat.dispose();
    sums.dispose();
    return [dx, dgamma, dbeta];
  });
}

/** Copies row h of a [rows · C] tensor into a new [C] tensor. */
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
