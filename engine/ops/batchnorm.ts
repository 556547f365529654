// Batch normalisation over the channels of NHWC data, with optional fused ReLU.
// Forward: a per-channel statistics pass (which also updates the running averages in training mode and folds
// gamma and beta into one scale and shift) and one elementwise pass. Backward: a reduction (Σg = dbeta,
// Σg·x̂ = dgamma, and the coefficients of dx) and one elementwise pass.
// With C % 4 = 0 (every model here) the kernels work on four channels at a time (bn_*4.wgsl), and each reduction
// runs in two barrier-free passes: per chunk of rows, then over the chunks in a fixed order (bn_stats4_chunks.wgsl
// says why). Other channel counts take the scalar kernels, one workgroup per channel.

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
    const { chunk, chunks } = chunking(R, C4);
    // Eval mode takes the running statistics: no chunks to compute (bn_stats4.wgsl then ignores its binding 1).
    const part = training ? new Tensor([chunks, 2, C]) : null;
    if (part) {
      dispatch({
        shader: 'bn_stats4_chunks.wgsl',
        constants: { C4 },
        params: [R, chunk, chunks],
        buffers: [x.buffer, part.buffer],
        workgroups: elementGrid(chunks * C4),
        label: `${label} stats (chunks)`,
      });
    }
    dispatch({
      shader: 'bn_stats4.wgsl',
      constants: { TRAIN: training ? 1 : 0, C4 },
      params: [R, chunk, chunks, f32(eps), f32(momentum)],
      buffers: [(part ?? x).buffer, runningMean.buffer, runningVar.buffer, gamma.buffer, beta.buffer, stats.buffer],
      workgroups: elementGrid(C4),
      label: `${label} stats`,
    });
    part?.dispose();
    dispatch({
      shader: 'bn_apply4.wgsl',
      constants: { RELU: relu ? 1 : 0, C4, RPI: ROWS_PER_INVOCATION },
      params: [R],
      buffers: [x.buffer, stats.buffer, y.buffer],
      workgroups: elementGrid(Math.ceil(R / ROWS_PER_INVOCATION) * C4),
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
    // dbeta = Σg and dgamma = Σg·x̂ per channel, written by the reduce pass directly.
    const dbeta = new Tensor([C]);
    const dgamma = new Tensor([C]);
    let dx: Tensor | null = null;
    if (v4) {
      const { chunk, chunks } = chunking(R, C4);
      const part = new Tensor([chunks, 2, C]);
      const coef = new Tensor([3, C]);   // dx = A·g + B·x + D per channel
      dispatch({
        shader: 'bn_backward_chunks4.wgsl',
        constants: { RELU: relu ? 1 : 0, C4 },
        params: [R, chunk, chunks],
        buffers: [g.buffer, x.buffer, stats.buffer, part.buffer],   // the ReLU mask comes from x and stats
        workgroups: elementGrid(chunks * C4),
        label: `${label} backward reduce (chunks)`,
      });
      dispatch({
        shader: 'bn_backward_reduce4.wgsl',
        constants: { TRAIN: training ? 1 : 0, C4 },
        params: [R, chunks],
        buffers: [part.buffer, stats.buffer, gamma.buffer, dbeta.buffer, dgamma.buffer, coef.buffer],
        workgroups: elementGrid(C4),
        label: `${label} backward reduce`,
      });
      part.dispose();
      if (needsGrad(x)) {
        dx = new Tensor([...x.shape]);
        dispatch({
          shader: 'bn_backward_apply4.wgsl',
          constants: { RELU: relu ? 1 : 0, C4, RPI: ROWS_PER_INVOCATION },
          params: [R],
          buffers: [g.buffer, x.buffer, stats.buffer, coef.buffer, dx.buffer],
          workgroups: elementGrid(Math.ceil(R / ROWS_PER_INVOCATION) * C4),
          label: `${label} backward`,
        });
      }
      coef.dispose();
    } else {
      dispatch({
        shader: 'bn_backward_reduce.wgsl',
        constants: { RELU: relu ? 1 : 0 },
        params: [R, C],
        buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, dbeta.buffer, dgamma.buffer],
        workgroups: [C],
        label: `${label} backward reduce`,
      });
      if (needsGrad(x)) {
        dx = new Tensor([...x.shape]);
        dispatch({
          shader: 'bn_backward_apply.wgsl',
          constants: { RELU: relu ? 1 : 0, TRAIN: training ? 1 : 0, C },
          params: [x.size, R],
          buffers: [g.buffer, x.buffer, y.buffer, stats.buffer, dbeta.buffer, dgamma.buffer, gamma.buffer, dx.buffer],
          workgroups: elementGrid(x.size),
          label: `${label} backward`,
        });
      }
    }
    return [dx, dgamma, dbeta];
  });
}

/** Rows per invocation of the vec4 apply passes (bn_apply4.wgsl, bn_backward_apply4.wgsl). */
const ROWS_PER_INVOCATION = 16;

/**
 * Rows per chunk of the vec4 reductions (bn_stats4_chunks.wgsl, bn_backward_chunks4.wgsl): at least 64, and at
 * most 256 chunks, so that the serial pass over the chunks stays short while the first pass has
 * chunks × C/4 invocations to spread over the cores.
 */
function chunking(R: number, C4: number): { chunk: number; chunks: number } {
  const chunk = Math.max(64, Math.ceil(R / 256));
  return { chunk, chunks: Math.ceil(R / chunk) };
}
