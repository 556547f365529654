// Browser edge of the engine: a device from navigator.gpu (in a page or a Web Worker), and the .wgsl sources
// handed in by the page's bundle (text imports; there is no file system). The Node edge is engine/node/dawn.ts;
// everything between them is the same code.

import { GpuError, Runtime, describeAdapter, deviceDescriptor, runtime, setRuntime } from '../runtime/index.ts';

export interface WebGpuOptions {
  /** Every kernel's WGSL source, by file name ('matmul.wgsl' → text). */
  shaders: Record<string, string>;
}

/** What to tell a user whose browser has no WebGPU. */
export const NO_WEBGPU =
  'This browser has no WebGPU (navigator.gpu is missing). Use a current Chrome, Edge or Chromium (WebGPU is on by ' +
  'default on Windows, macOS and ChromeOS; on Linux start it with --enable-unsafe-webgpu, or enable ' +
  'chrome://flags/#enable-unsafe-webgpu), Safari 26+, or Firefox 141+ on Windows.';

/** Acquires the GPU once per page or worker and makes it the engine's runtime. */
export async function initWebGpu(options: WebGpuOptions): Promise<Runtime> {
  try {
    return runtime();
  } catch {
    /* not initialised yet */
  }
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new GpuError(NO_WEBGPU);
  const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ?? (await gpu.requestAdapter());
  if (!adapter) throw new GpuError('WebGPU is present but offers no adapter (is hardware acceleration off, or the GPU blocklisted?)');
  const device = await adapter.requestDevice(deviceDescriptor(adapter));
  const loadShader = (file: string) => {
    const source = options.shaders[file];
    if (source === undefined) throw new GpuError(`shader file not found in the bundle: shaders/${file}`);
    return source;
  };
  const rt = new Runtime(device, describeAdapter(adapter), loadShader);
  setRuntime(rt);
  await rt.detectSubgroups();
  await rt.detectLoopUnrolling(); // measured on every start: a page has no cache folder
  return rt;
}
