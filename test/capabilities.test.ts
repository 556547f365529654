// Capabilities by name (engine/runtime/capabilities.ts): what the runtime detected, the loop-unrolling probe
// (engine/runtime/unrolling.ts) and its per-adapter cache (engine/node/unrolling-cache.ts).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { runtime, UNROLL_GAIN } from '../engine/runtime/index.ts';
import { detectUnrolling, unrollingCachePath } from '../engine/node/unrolling-cache.ts';
import { gpuReady } from './gpu.ts';

beforeAll(async () => {
  await gpuReady;
});

describe('capabilities', () => {
  it('are named flags, from the device features and the probes', () => {
    const rt = runtime();
    expect(Object.keys(rt.caps).sort()).toEqual(['f16', 'subgroups8', 'timestampQuery', 'unrollLoops']);
    expect(rt.caps.timestampQuery).toBe(rt.device.features.has('timestamp-query'));
    expect(rt.caps.f16).toBe(rt.device.features.has('shader-f16'));
    if (!rt.device.features.has('subgroups')) expect(rt.caps.subgroups8).toBe(false);
  });

  it('loop unrolling is chosen by measurement, and the measurement is kept per adapter', async () => {
    const rt = runtime();
    const before = rt.caps.unrollLoops;
    const dir = mkdtempSync(join(tmpdir(), 'caps-'));
    try {
      const m = await detectUnrolling(rt, dir);
      expect(m.cached).toBe(false);
      expect(m.rolledMs).toBeGreaterThan(0);
      // Unrolling needs the gain measured (and then confirmed by a second measurement, not reported here).
      if (m.rolledMs < UNROLL_GAIN * m.unrolledMs) expect(m.unrollLoops).toBe(false);
      expect(rt.caps.unrollLoops).toBe(m.unrollLoops);
      const path = unrollingCachePath(rt.adapterDescription, dir);
      expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ adapter: rt.adapterDescription, unrollLoops: m.unrollLoops });
      // A kept answer is used as it is, without measuring …
      writeFileSync(path, JSON.stringify({ adapter: rt.adapterDescription, rolledMs: 9, unrolledMs: 1, unrollLoops: !m.unrollLoops }));
      expect(await detectUnrolling(rt, dir)).toMatchObject({ cached: true, unrollLoops: !m.unrollLoops });
      expect(rt.caps.unrollLoops).toBe(!m.unrollLoops);
      // … a damaged one or another adapter's is measured again.
      writeFileSync(path, '{ not json');
      expect((await detectUnrolling(rt, dir)).cached).toBe(false);
      writeFileSync(path, JSON.stringify({ adapter: 'another GPU', rolledMs: 9, unrolledMs: 1, unrollLoops: true }));
      expect((await detectUnrolling(rt, dir)).cached).toBe(false);
    } finally {
      rt.caps.unrollLoops = before;
    }
  });
});
