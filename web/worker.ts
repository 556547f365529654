// The demo's Web Worker: it owns the GPU device and trains, so the page stays responsive. The page sends
// start / pause / resume / check; the worker answers with progress messages (web/protocol.ts).

import shaders from 'virtual:dgkd-shaders';
import { initWebGpu } from '../engine/web/gpu.ts';
import { forwardBackwardCheck } from './check.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { trainChain } from './train_chain.ts';

const scope = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
const post = (m: FromWorker) => scope.postMessage(m);

let paused = false;
let wake: (() => void) | null = null;
const control = {
  waitIfPaused: () => (paused ? new Promise<void>((r) => (wake = r)) : Promise.resolve()),
};

async function gpu() {
  const rt = await initWebGpu({ shaders });
  post({ type: 'ready', adapter: rt.adapterDescription });
  return rt;
}

scope.onmessage = async (e) => {
  const m = e.data;
  try {
    if (m.type === 'pause') {
      paused = true;
      post({ type: 'paused' });
    } else if (m.type === 'resume') {
      paused = false;
      wake?.();
      wake = null;
      post({ type: 'resumed' });
    } else if (m.type === 'check') {
      const rt = await gpu();
      post({ type: 'check', result: { ...(await forwardBackwardCheck()), adapter: rt.adapterDescription } });
    } else if (m.type === 'start') {
      await gpu();
      const t0 = performance.now();
      const rows = await trainChain(m.config, post, control);
      post({ type: 'done', rows, seconds: (performance.now() - t0) / 1000 });
    }
  } catch (err) {
    post({ type: 'error', message: (err as Error).message ?? String(err) });
  }
};
