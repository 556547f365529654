// The SGD update of one parameter in place (sgd.wgsl): momentum, weight decay and optional Nesterov, with the
// hyper-parameters in their own small uniform buffer (engine/nn/sgd.ts rewrites it when the rate changes).

import { runtime, kernel } from '../runtime/index.ts';
import type { Tensor } from '../tensor.ts';
import { elementGrid } from './grid.ts';

const SGD_UPDATE = kernel({ shader: 'sgd.wgsl', params: { n: 'u32' }, bindings: ['h', 'param', 'grad', 'velocity'], constants: ['NESTEROV'] });

export function sgdUpdate(param: Tensor, grad: Tensor, velocity: Tensor, hyper: GPUBuffer, nesterov: boolean): void {
  runtime().launch(SGD_UPDATE, {
    constants: { NESTEROV: nesterov ? 1 : 0 },
    params: { n: param.size },
    buffers: { h: hyper, param: param.buffer, grad: grad.buffer, velocity: velocity.buffer },
    workgroups: elementGrid(param.size),
    label: `sgd ${param.name}`,
  });
}
