import { initGpu, gpuInstance, describeAdapter } from '../engine/node/dawn.ts';
import * as tf from '@tensorflow/tfjs';
const rt = await initGpu();
const gpu = gpuInstance();
let tfAdapter: GPUAdapter | null = null;
(globalThis as any).navigator = { gpu: { requestAdapter: async (o: any) => (tfAdapter = await gpu.requestAdapter(o)), getPreferredCanvasFormat: () => 'rgba8unorm', wgslLanguageFeatures: new Set() } };
await import('@tensorflow/tfjs-backend-webgpu');
tf.env().set('WEBGPU_CPU_FORWARD', false);
console.log('setBackend', await tf.setBackend('webgpu'));
await tf.ready();
console.log(tf.getBackend(), describeAdapter(tfAdapter!), tf.version);
const a = tf.randomNormal([1024, 1024]); const b = tf.randomNormal([1024, 1024]);
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  const c = tf.matMul(a, b);
  const d = await c.data();
  console.log('matmul', performance.now() - t0, d[0]);
  c.dispose();
}
const x = tf.randomNormal([64, 32, 32, 16]); const w = tf.randomNormal([3, 3, 16, 16]);
for (let k = 0; k < 3; k++) {
  const t0 = performance.now();
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 1 as any);
  const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: y, filter: w }, { inputShape: [64, 32, 32, 16], strides: 1, pad: 1, dataFormat: 'NHWC' } as any) as tf.Tensor;
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: y }, { filterShape: [3, 3, 16, 16], strides: 1, pad: 1, dataFormat: 'NHWC' } as any) as tf.Tensor;
  await dw.data(); 
  console.log('conv3', performance.now() - t0, y.shape, dx.shape, dw.shape);
  tf.dispose([y, dx, dw]);
}
console.log(tf.memory());
process.exit(0);
