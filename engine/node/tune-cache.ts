// The on-disk cache of what was measured on an adapter: one JSON file per adapter in .cache/tune/, written by
// bench/tune.ts and loaded by initGpu() — the tile shapes of the CPU-driver kernels (engine/kernels/tiles.ts) and
// which family of the kernel ladder won each pass (engine/kernels/ladder/family.ts). Without a file the kernels
// use their defaults and the ladder its fallback order.

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ORDER, isFamily, setFamilies, type Family } from '../kernels/ladder/family.ts';
import { setTiles, type Tile } from '../kernels/tiles.ts';

/** Where the cache lives unless the caller names a folder: .cache/tune/ at the repository's root. */
export const DEFAULT_TUNE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../.cache/tune');

export function adapterSlug(adapter: string): string {
  return adapter.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 80) || 'adapter';
}

export function tuneCachePath(adapter: string, dir = DEFAULT_TUNE_DIR): string {
  return join(dir, `${adapterSlug(adapter)}.json`);
}

export interface TuneFile {
  adapter: string;
  created: string;
  tiles: Record<string, Tile>;
  /** The ladder family measured fastest, by pass or by pass and problem shape (tileKey). */
  families?: Record<string, Family>;
  /** The families in the order to try where nothing was measured for a pass (default DEFAULT_ORDER). */
  order?: Family[];
}

/** The adapter's cache file as written, or null if there is none or it does not parse. */
export function loadTuneFile(adapter: string, dir = DEFAULT_TUNE_DIR): TuneFile | null {
  try {
    return JSON.parse(readFileSync(tuneCachePath(adapter, dir), 'utf8')) as TuneFile;
  } catch {
    return null;
  }
}

/** Loads the adapter's tuned tiles and ladder families if a valid cache file exists; returns how many entries it set. */
export function loadTuneCache(adapter: string, dir = DEFAULT_TUNE_DIR): number {
  const path = tuneCachePath(adapter, dir);
  if (!existsSync(path)) return 0;
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as TuneFile;
    const ok = (t: Tile) => [t.TM, t.TN, t.WG].every((v) => Number.isInteger(v) && v > 0) && t.TN % 4 === 0;
    const tiles = Object.fromEntries(Object.entries(file.tiles ?? {}).filter(([, t]) => ok(t)));
    const families = Object.fromEntries(Object.entries(file.families ?? {}).filter(([, f]) => isFamily(f)));
    const order = Array.isArray(file.order) && file.order.length && file.order.every(isFamily) ? file.order : DEFAULT_ORDER;
    setTiles(tiles);
    setFamilies(families, order);
    return Object.keys(tiles).length + Object.keys(families).length;
  } catch {
    return 0; // a damaged cache is ignored: the defaults are always valid
  }
}

export function saveTuneCache(
  adapter: string,
  tiles: Record<string, Tile>,
  dir = DEFAULT_TUNE_DIR,
  families: Record<string, Family> = {},
  order: Family[] = [...DEFAULT_ORDER],
): string {
  const path = tuneCachePath(adapter, dir);
  mkdirSync(dirname(path), { recursive: true });
  const body: TuneFile = { adapter, created: new Date().toISOString(), tiles, families, order };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 1) + '\n');
  renameSync(tmp, path);
  return path;
}
