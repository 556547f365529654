// Node edge of the engine: creates Dawn's WebGPU instance, finds an adapter (hardware first, then a software
// Vulkan driver on the system or in the project's .cache/vulkan), and reads .wgsl files from shaders/.
// Everything else in engine/ speaks plain WebGPU and could run in a browser page.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { create, globals } from 'webgpu';
import { GpuError, Runtime, describeAdapter, deviceDescriptor, runtime, setRuntime } from '../runtime/index.ts';
import { loadTuneCache } from './tune-cache.ts';
import { detectUnrolling } from './unrolling-cache.ts';

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const shaderDir = join(projectRoot, 'shaders');
export const INSTALL_HINT = 'npm run setup:vulkan';

// Dawn crashes at random if its instance is garbage-collected: every instance made is kept here for good.
const instances: GPU[] = [];
/** The instance whose adapter the engine uses (set by initGpu). */
let engineInstance: GPU | null = null;

export function readShader(file: string): string {
  const path = join(shaderDir, file);
  if (!existsSync(path)) throw new GpuError(`shader file not found: shaders/${file}`);
  return readFileSync(path, 'utf8');
}

/** Software Vulkan ICD files to try, in order of preference: Mesa lavapipe (faster), then SwiftShader. */
function softwareDrivers(): string[] {
  const found: string[] = [];
  const dirs = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir).sort()) if (/^lvp_icd.*\.json$/.test(f)) found.push(join(dir, f));
  }
  const local = join(projectRoot, '.cache/vulkan/vk_swiftshader_icd.json');
  if (existsSync(local)) found.push(local);
  for (const p of ['/usr/lib/chromium/vk_swiftshader_icd.json']) if (existsSync(p)) found.push(p);
  return found;
}

async function tryAdapter(): Promise<GPUAdapter | null> {
  const gpu = create([]) as unknown as GPU;
  instances.push(gpu);
  return (
    (await gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
    (await gpu.requestAdapter({ forceFallbackAdapter: true }))
  );
}

/**
 * Dawn's Node binding waits for the GPU by re-queueing `instance.processEvents()` with setImmediate for as long
 * as any WebGPU promise is pending (its AsyncRunner), which spins one core at 100%. On a CPU driver that core is
 * taken from the driver's own threads — each dispatch splits its workgroups between them and waits for the
 * slowest — so an awaited ResNet-8 training step ran ~1.7× slower (260 vs 150 ms on the 2-core lavapipe
 * machine). This sends the binding's callbacks (native functions without a name: what it passes) through a 1 ms
 * timer instead: a poll, not a spin, and a wait ends at most about a millisecond late. Every other caller of
 * setImmediate is passed straight through. Installed for CPU adapters only: with a real GPU the spinning core
 * slows nothing, and a millisecond per wait would.
 */
const installed = Symbol.for('webgpu-engine.pollDawnEventsGently');
function pollDawnEventsGently(): void {
  const g = globalThis as { setImmediate: typeof setImmediate; [installed]?: true };
  if (g[installed]) return;
  g[installed] = true;
  const immediate = g.setImmediate;
  const toSource = Function.prototype.toString;
  // A native function's source reads `function () { [native code] }`; endsWith keeps the test O(1) for the
  // anonymous JS callbacks of other callers (their source is the text).
  const isDawnCallback = (cb: unknown) => typeof cb === 'function' && cb.name === '' && toSource.call(cb).endsWith('[native code] }');
  g.setImmediate = ((cb: (...args: unknown[]) => void, ...args: unknown[]) =>
    isDawnCallback(cb) ? setTimeout(cb, 1, ...args) : immediate(cb, ...args)) as typeof setImmediate;
}

/** How initGpu sets the engine up. The engine reads no environment variable of its own: an application maps its
 * own settings onto these. */
export interface InitOptions {
  /** Print the adapter that was picked and the tuned tiles loaded (default true). */
  log?: boolean;
  /** Force loop unrolling in the kernel text on or off (default: measured once per adapter, unrolling-cache.ts). */
  unrollLoops?: boolean;
  /** Use the subgroup kernel variants where the device has subgroups (default true; false for A/B runs). */
  subgroups?: boolean;
  /** Let Dawn busy-wait for a CPU adapter, as it does by default (default false: poll every millisecond). */
  spinWait?: boolean;
  /** The folder of tuned tile shapes (default .cache/tune/); false: the kernels' defaults only. */
  tuneCache?: string | false;
}

/**
 * Acquires the GPU once per process. Honours VK_ICD_FILENAMES / VK_DRIVER_FILES if set; otherwise tries the
 * default Vulkan drivers, then each software driver it can find.
 */
export async function initGpu(options: InitOptions = {}): Promise<Runtime> {
  try {
    return runtime();
  } catch {
    /* not initialised yet */
  }
  Object.assign(globalThis, globals);
  let adapter = await tryAdapter();
  const tried: string[] = [];
  if (!adapter && !process.env.VK_ICD_FILENAMES && !process.env.VK_DRIVER_FILES) {
    for (const icd of softwareDrivers()) {
      process.env.VK_ICD_FILENAMES = icd;
      tried.push(icd);
      adapter = await tryAdapter();
      if (adapter) break;
    }
    if (!adapter) delete process.env.VK_ICD_FILENAMES;
  }
  if (!adapter) {
    throw new GpuError(
      'no WebGPU adapter found: no GPU and no working software Vulkan driver' +
        (tried.length ? ` (tried ${tried.join(', ')})` : '') +
        `. Install one with \`${INSTALL_HINT}\` (Debian/Ubuntu, as root: Mesa lavapipe, or SwiftShader as a fallback).`,
    );
  }
  engineInstance = instances[instances.length - 1]; // tryAdapter() pushed the instance that found it
  if (adapter.info.isFallbackAdapter && !options.spinWait) pollDawnEventsGently();
  const device = await adapter.requestDevice(deviceDescriptor(adapter));
  const description = describeAdapter(adapter);
  const log = options.log ?? true;
  if (log) console.error(`[gpu] adapter: ${description}`);
  const rt = new Runtime(device, description, readShader);
  setRuntime(rt);
  if (options.unrollLoops !== undefined) rt.caps.unrollLoops = options.unrollLoops;
  else {
    const m = await detectUnrolling(rt, typeof options.tuneCache === 'string' ? options.tuneCache : undefined);
    if (log && m.unrollLoops) console.error(`[gpu] loops unrolled in the kernel text (measured ${(m.rolledMs / m.unrolledMs).toFixed(1)}× faster so)`);
  }
  if (options.subgroups ?? true) await rt.detectSubgroups();
  // Tile shapes tuned for this adapter by `npm run tune`, if it has been run here.
  const tuned = options.tuneCache === false ? 0 : loadTuneCache(description, options.tuneCache);
  if (tuned && log) console.error(`[gpu] ${tuned} tuned tile shapes loaded`);
  return rt;
}

/**
 * The WebGPU instance (what `navigator.gpu` is in a page) that produced the engine's adapter, already pointed
 * at the same Vulkan driver. Another library in the same process (TensorFlow.js in bench/) can request its own
 * adapter and device from it: a WebGPU adapter is consumed by its first device, so the engine's cannot be shared.
 */
export function gpuInstance(): GPU {
  if (!engineInstance) throw new GpuError('no GPU instance yet: call `await initGpu()` first');
  return engineInstance;
}
