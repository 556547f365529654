// Batch normalisation over the channels of NHWC data, with optional fused ReLU.
// Forward: a per-channel statistics pass (which also updates the running averages in training mode and folds
// gamma and beta into one scale and shift) and one element-wise pass. Backward: a reduction (Σg = dbeta,
// Σg·x̂ = dgamma, and the coefficients of dx) and one element-wise pass.
// With C % 4 = 0 (every model here) the kernels work on four channels at a time (bn_*4.wgsl), and each reduction
// runs in two barrier-free passes: per chunk of rows, then over the chunks in a fixed order (bn_stats4_chunks.wgsl
// says why). Other channel counts take the scalar kernels, one workgroup per channel.

import { runtime, kernel } from '../runtime/index.ts';
import { Tensor } from '../tensor.ts';
import { elementGrid } from './grid.ts';
import { shapeStr } from './shapes.ts';

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** Apply ReLU to the output in the same pass. */
  relu?: boolean;
}

const STATS4_CHUNKS = kernel({ shader: 'bn_stats4_chunks.wgsl', params: { R: 'u32', chunk: 'u32', chunks: 'u32' }, bindings: ['x', 'part'], constants: ['C4'] });
const STATS4 = kernel({
  shader: 'bn_stats4.wgsl',
  params: { R: 'u32', chunk: 'u32', chunks: 'u32', eps: 'f32', momentum: 'f32' },
  bindings: ['part', 'runMean', 'runVar', 'gamma', 'beta', 'stats'],
  constants: ['TRAIN', 'C4'],
});
const APPLY4 = kernel({ shader: 'bn_apply4.wgsl', params: { R: 'u32' }, bindings: ['x', 'stats', 'y'], constants: ['RELU', 'C4', 'RPI'] });
const STATS = kernel({
  shader: 'bn_stats.wgsl',
  params: { R: 'u32', C: 'u32', eps: 'f32', momentum: 'f32' },
  bindings: ['x', 'runMean', 'runVar', 'stats'],
  constants: ['TRAIN'],
});
const APPLY = kernel({ shader: 'bn_apply.wgsl', params: { n: 'u32' }, bindings: ['x', 'stats', 'gamma', 'beta', 'y'], constants: ['RELU', 'C'] });
const BACKWARD_CHUNKS4 = kernel({
  shader: 'bn_backward_chunks4.wgsl',
  params: { R: 'u32', chunk: 'u32', chunks: 'u32' },
  bindings: ['g', 'x', 'stats', 'part'],
  constants: ['RELU', 'C4'],
});
const BACKWARD_REDUCE4 = kernel({
  shader: 'bn_backward_reduce4.wgsl',
  params: { R: 'u32', chunks: 'u32' },
  bindings: ['part', 'stats', 'gamma', 'dbeta', 'dgamma', 'coef'],
  constants: ['TRAIN', 'C4'],
});
const BACKWARD_APPLY4 = kernel({
  shader: 'bn_backward_apply4.wgsl',
  params: { R: 'u32' },
  bindings: ['g', 'x', 'stats', 'coef', 'dx'],
  constants: ['RELU', 'C4', 'RPI'],
});
const BACKWARD_REDUCE = kernel({
  shader: 'bn_backward_reduce.wgsl',
  params: { R: 'u32', C: 'u32' },
  bindings: ['g', 'x', 'y', 'stats', 'dbeta', 'dgamma'],
  constants: ['RELU'],
});
const BACKWARD_APPLY = kernel({
  shader: 'bn_backward_apply.wgsl',
  params: { n: 'u32', R: 'u32' },
  bindings: ['g', 'x', 'y', 'stats', 'dbeta', 'dgamma', 'gamma', 'dx'],
  constants: ['RELU', 'TRAIN', 'C'],
});

/** Rows per invocation of the vec4 apply passes (bn_apply4.wgsl, bn_backward_apply4.wgsl). */
const ROWS_PER_INVOCATION = 16;

/**
 * Rows per chunk of the vec4 reductions: at least 64, and at most 256 chunks, so that the serial pass over the
 * chunks stays short while the first pass has chunks × C/4 invocations to spread over the cores.
 */
function chunking(R: number): { chunk: number; chunks: number } {
  const chunk = Math.max(64, Math.ceil(R / 256));
  return { chunk, chunks: Math.ceil(R / chunk) };
}

/** What the forward pass keeps for backward: per channel, the statistics and folded scale and shift [4, C]. */
export interface BatchNormSaved {
  stats: Tensor;
  C: number;
  R: number;
  training: boolean;
  relu: boolean;
  label: string;
}

/**
 * y = BN(x) (then ReLU): x [..., C]; gamma, beta, runningMean, runningVar [C]. In training mode the running
 * averages are updated in place on the GPU.
 */
export function batchNormForward(
  x: Tensor, gamma: Tensor, beta: Tensor, runningMean: Tensor, runningVar: Tensor, opts: BatchNormOptions,
): { y: Tensor; saved: BatchNormSaved } {
  const C = x.shape[x.shape.length - 1];
  for (const [name, t] of [['gamma', gamma], ['beta', beta], ['running_mean', runningMean], ['running_var', runningVar]] as const) {
    if (t.size !== C) throw new RangeError(`batchNorm: ${name} ${shapeStr(t.shape)} does not match ${C} channels of x ${shapeStr(x.shape)}`);
  }
  const R = x.size / C;
  const { training, momentum = 0.1, eps = 1e-5, relu = false } = opts;
  const label = relu ? 'batchnorm+relu' : 'batchnorm';
  const stats = new Tensor([4, C]);
  const y = new Tensor([...x.shape]);
  const rt = runtime();
  if (C % 4 === 0) {
    const C4 = C / 4;
    const { chunk, chunks } = chunking(R);
    // Eval mode takes the running statistics: no chunks to compute (bn_stats4.wgsl then ignores its binding 1).
    const part = training ? new Tensor([chunks, 2, C]) : null;
    if (part) {
      rt.launch(STATS4_CHUNKS, {
        constants: { C4 }, params: { R, chunk, chunks }, buffers: { x: x.buffer, part: part.buffer },
        workgroups: elementGrid(chunks * C4), label: `${label} stats (chunks)`,
      });
    }
    rt.launch(STATS4, {
      constants: { TRAIN: training ? 1 : 0, C4 },
      params: { R, chunk, chunks, eps, momentum },
      buffers: { part: (part ?? x).buffer, runMean: runningMean.buffer, runVar: runningVar.buffer, gamma: gamma.buffer, beta: beta.buffer, stats: stats.buffer },
      workgroups: elementGrid(C4),
      label: `${label} stats`,
    });
    part?.dispose();
    rt.launch(APPLY4, {
      constants: { RELU: relu ? 1 : 0, C4, RPI: ROWS_PER_INVOCATION },
      params: { R },
      buffers: { x: x.buffer, stats: stats.buffer, y: y.buffer },
      workgroups: elementGrid(Math.ceil(R / ROWS_PER_INVOCATION) * C4),
      label,
    });
  } else {
    rt.launch(STATS, {
      constants: { TRAIN: training ? 1 : 0 },
      params: { R, C, eps, momentum },
      buffers: { x: x.buffer, runMean: runningMean.buffer, runVar: runningVar.buffer, stats: stats.buffer },
      workgroups: [C],
      label: `${label} stats`,
    });
    rt.launch(APPLY, {
      constants: { RELU: relu ? 1 : 0, C },
      params: { n: x.size },
      buffers: { x: x.buffer, stats: stats.buffer, gamma: gamma.buffer, beta: beta.buffer, y: y.buffer },
      workgroups: elementGrid(x.size),
      label,
    });
  }
  return { y, saved: { stats, C, R, training, relu, label } };
}

/** dx (when wanted), dgamma and dbeta for the upstream gradient g of y = batchNormForward(x, …). */
export function batchNormBackward(
  g: Tensor, x: Tensor, y: Tensor, gamma: Tensor, s: BatchNormSaved, wantDx: boolean,
): { dx: Tensor | null; dgamma: Tensor; dbeta: Tensor } {
  const { C, R, training, relu, label, stats } = s;
  const dbeta = new Tensor([C]);
  const dgamma = new Tensor([C]);
  let dx: Tensor | null = null;
  const rt = runtime();
  if (C % 4 === 0) {
    const C4 = C / 4;
    const { chunk, chunks } = chunking(R);
    const part = new Tensor([chunks, 2, C]);
    const coef = new Tensor([3, C]); // dx = A·g + B·x + D per channel
    rt.launch(BACKWARD_CHUNKS4, {
      constants: { RELU: relu ? 1 : 0, C4 },
      params: { R, chunk, chunks },
      buffers: { g: g.buffer, x: x.buffer, stats: stats.buffer, part: part.buffer }, // the ReLU mask comes from x and stats
      workgroups: elementGrid(chunks * C4),
      label: `${label} backward reduce (chunks)`,
    });
    rt.launch(BACKWARD_REDUCE4, {
      constants: { TRAIN: training ? 1 : 0, C4 },
      params: { R, chunks },
      buffers: { part: part.buffer, stats: stats.buffer, gamma: gamma.buffer, dbeta: dbeta.buffer, dgamma: dgamma.buffer, coef: coef.buffer },
      workgroups: elementGrid(C4),
      label: `${label} backward reduce`,
    });
    part.dispose();
    if (wantDx) {
      dx = new Tensor([...x.shape]);
      rt.launch(BACKWARD_APPLY4, {
        constants: { RELU: relu ? 1 : 0, C4, RPI: ROWS_PER_INVOCATION },
        params: { R },
        buffers: { g: g.buffer, x: x.buffer, stats: stats.buffer, coef: coef.buffer, dx: dx.buffer },
        workgroups: elementGrid(Math.ceil(R / ROWS_PER_INVOCATION) * C4),
        label: `${label} backward`,
      });
    }
    coef.dispose();
  } else {
    rt.launch(BACKWARD_REDUCE, {
      constants: { RELU: relu ? 1 : 0 },
      params: { R, C },
      buffers: { g: g.buffer, x: x.buffer, y: y.buffer, stats: stats.buffer, dbeta: dbeta.buffer, dgamma: dgamma.buffer },
      workgroups: [C],
      label: `${label} backward reduce`,
    });
    if (wantDx) {
      dx = new Tensor([...x.shape]);
      rt.launch(BACKWARD_APPLY, {
        constants: { RELU: relu ? 1 : 0, TRAIN: training ? 1 : 0, C },
        params: { n: x.size, R },
        buffers: { g: g.buffer, x: x.buffer, y: y.buffer, stats: stats.buffer, dbeta: dbeta.buffer, dgamma: dgamma.buffer, gamma: gamma.buffer, dx: dx.buffer },
        workgroups: elementGrid(x.size),
        label: `${label} backward`,
      });
    }
  }
  return { dx, dgamma, dbeta };
}
