// Tile shapes per kernel. Defaults suit CPU Vulkan drivers (see engine-notes.md); a tuned table for the current
// adapter can replace them (setTiles), e.g. loaded from the on-disk cache that bench/tune.ts writes.

export interface Tile {
  TM: number;
  TN: number;
  WG: number;
}

const defaults: Record<string, Tile> = {
  matmul: { TM: 4, TN: 16, WG: 64 },
  conv_fwd: { TM: 4, TN: 16, WG: 64 },
  conv_dgrad: { TM: 4, TN: 16, WG: 64 },
  conv_wgrad: { TM: 4, TN: 16, WG: 64 },
};

let tuned: Record<string, Tile> = {};

/** Tile for a kernel and problem shape: a tuned entry for this exact shape, else the kernel's default. */
export function tileFor(kernel: string, ...dims: number[]): Tile {
  return tuned[`${kernel}:${dims.join('x')}`] ?? tuned[kernel] ?? defaults[kernel];
}

export function setTiles(table: Record<string, Tile>): void {
  tuned = { ...table };
}

export function getTiles(): Record<string, Tile> {
  return { ...defaults, ...tuned };
}
