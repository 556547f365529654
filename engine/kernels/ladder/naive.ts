// The ladder's first rung (docs/kernel-ladder.md): matmul and the three convolution passes with one output per
// invocation, each kernel the definition of its op written out (matmul_naive.wgsl, conv2d_*_naive.wgsl).

import { kernel, runtime } from '../../runtime/index.ts';
import { Tensor } from '../../tensor.ts';
import type { Geometry } from '../conv2d/geometry.ts';
import { elementGrid } from '../grid.ts';
import { shapeStr } from '../shapes.ts';
import type { MatmulOperands } from './operands.ts';

const MATMUL_PARAMS = { M: 'u32', N: 'u32', K: 'u32', sam: 'u32', sak: 'u32', sbk: 'u32', sbn: 'u32' } as const;
const CONV_PARAMS = {
  N: 'u32', H: 'u32', W: 'u32', Cin: 'u32', Ho: 'u32', Wo: 'u32', Cout: 'u32', KH: 'u32', KW: 'u32', stride: 'u32', pad: 'u32',
} as const;

const MATMUL = kernel({ shader: 'matmul_naive.wgsl', params: MATMUL_PARAMS, bindings: ['A', 'B', 'C'] });
const FORWARD = kernel({ shader: 'conv2d_fwd_naive.wgsl', params: { ...CONV_PARAMS, hasBias: 'u32' }, bindings: ['X', 'Wt', 'bias', 'Y'] });
const INPUT_GRAD = kernel({ shader: 'conv2d_dgrad_naive.wgsl', params: CONV_PARAMS, bindings: ['dY', 'Wt', 'dX'] });
const WEIGHT_GRAD = kernel({ shader: 'conv2d_wgrad_naive.wgsl', params: CONV_PARAMS, bindings: ['X', 'dY', 'dW'] });

/** The convolution's sizes as the kernels' parameters. */
export const convParams = (g: Geometry) => ({
  N: g.N, H: g.H, W: g.W, Cin: g.Cin, Ho: g.Ho, Wo: g.Wo, Cout: g.Cout, KH: g.KH, KW: g.KW, stride: g.stride, pad: g.pad,
});

export function matmulNaive(m: MatmulOperands, label: string): Tensor {
  const out = new Tensor([m.M, m.N]);
  runtime().launch(MATMUL, {
    params: { M: m.M, N: m.N, K: m.K, sam: m.sam, sak: m.sak, sbk: m.sbk, sbn: m.sbn },
    buffers: { A: m.a.buffer, B: m.b.buffer, C: out.buffer },
    workgroups: elementGrid(out.size),
    label,
  });
  return out;
}

export function convForwardNaive(x: Tensor, w: Tensor, bias: Tensor | null, g: Geometry): Tensor {
  const y = new Tensor([g.N, g.Ho, g.Wo, g.Cout]);
  runtime().launch(FORWARD, {
    params: { ...convParams(g), hasBias: bias ? 1 : 0 },
    buffers: { X: x.buffer, Wt: w.buffer, bias: (bias ?? w).buffer, Y: y.buffer },
    workgroups: elementGrid(y.size),
    label: `conv2d ${shapeStr(x.shape)} * ${shapeStr(w.shape)} (naive)`,
  });
  return y;
}

export function convInputGradNaive(dy: Tensor, w: Tensor, g: Geometry): Tensor {
  const dx = new Tensor([g.N, g.H, g.W, g.Cin]);
  runtime().launch(INPUT_GRAD, {
    params: convParams(g),
    buffers: { dY: dy.buffer, Wt: w.buffer, dX: dx.buffer },
    workgroups: elementGrid(dx.size),
    label: `conv2d input-grad ${shapeStr(dy.shape)} (naive)`,
  });
  return dx;
}

export function convWeightGradNaive(x: Tensor, dy: Tensor, g: Geometry): Tensor {
  const dw = new Tensor([g.KH, g.KW, g.Cin, g.Cout]);
  runtime().launch(WEIGHT_GRAD, {
    params: convParams(g),
    buffers: { X: x.buffer, dY: dy.buffer, dW: dw.buffer },
    workgroups: elementGrid(dw.size),
    label: `conv2d weight-grad ${shapeStr(x.shape)} (naive)`,
  });
  return dw;
}
