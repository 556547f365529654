// Capabilities.unrollLoops is measured (engine/runtime/unrolling.ts), which costs two pipeline compiles and a
// few hundred milliseconds; so it is measured once per adapter and kept beside the tune cache, in
// .cache/tune/<adapter>.unrolling.json. A missing or damaged file is measured again.

import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Runtime, UnrollingMeasurement } from '../runtime/index.ts';
import { DEFAULT_TUNE_DIR, adapterSlug } from './tune-cache.ts';

export const unrollingCachePath = (adapter: string, dir = DEFAULT_TUNE_DIR) => join(dir, `${adapterSlug(adapter)}.unrolling.json`);

interface UnrollingFile extends UnrollingMeasurement {
  adapter: string;
  created: string;
}

/** Sets rt.caps.unrollLoops from the adapter's cached measurement, measuring (and caching) it if there is none. */
export async function detectUnrolling(rt: Runtime, dir = DEFAULT_TUNE_DIR): Promise<UnrollingMeasurement & { cached: boolean }> {
  const path = unrollingCachePath(rt.adapterDescription, dir);
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as UnrollingFile;
    if (file.adapter === rt.adapterDescription && typeof file.unrollLoops === 'boolean') {
      rt.caps.unrollLoops = file.unrollLoops;
      return { rolledMs: file.rolledMs, unrolledMs: file.unrolledMs, unrollLoops: file.unrollLoops, cached: true };
    }
  } catch {
    /* none yet, or damaged: measure */
  }
  const m = await rt.detectLoopUnrolling();
  try {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    const body: UnrollingFile = { adapter: rt.adapterDescription, created: new Date().toISOString(), ...m };
    writeFileSync(tmp, JSON.stringify(body, null, 1) + '\n');
    renameSync(tmp, path);
  } catch {
    /* a read-only checkout measures every time */
  }
  return { ...m, cached: false };
}
