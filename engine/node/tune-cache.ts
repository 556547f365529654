// The on-disk cache of tuned tile shapes: one JSON file per adapter in .cache/tune/, written by bench/tune.ts
// and loaded by initGpu(). Without a file the kernels use their defaults (engine/kernels/tiles.ts).

import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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
}

/** Loads the adapter's tuned tiles if a valid cache file exists; returns how many entries it set. */
export function loadTuneCache(adapter: string, dir = DEFAULT_TUNE_DIR): number {
  const path = tuneCachePath(adapter, dir);
  if (!existsSync(path)) return 0;
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as TuneFile;
    const ok = (t: Tile) => [t.TM, t.TN, t.WG].every((v) => Number.isInteger(v) && v > 0) && t.TN % 4 === 0;
    const tiles = Object.fromEntries(Object.entries(file.tiles ?? {}).filter(([, t]) => ok(t)));
    setTiles(tiles);
    return Object.keys(tiles).length;
  } catch {
    return 0; // a damaged cache is ignored: the defaults are always valid
  }
}

export function saveTuneCache(adapter: string, tiles: Record<string, Tile>, dir = DEFAULT_TUNE_DIR): string {
  const path = tuneCachePath(adapter, dir);
  mkdirSync(dirname(path), { recursive: true });
  const body: TuneFile = { adapter, created: new Date().toISOString(), tiles };
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(body, null, 1) + '\n');
  renameSync(tmp, path);
  return path;
}
