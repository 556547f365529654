// Reading dataset files from disk (the Node side of the loaders; dataset.ts itself has no file system, so the
// browser demo can use it).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { DataError } from './dataset.ts';

/**
 * Reads a whole file, turning "not found" into a DataError that names the file and says which files the
 * folder is expected to hold (`expected`), so that a wrong --data-dir is easy to fix.
 */
export function readDataFile(path: string, expected: string): Buffer {
  if (!existsSync(path)) throw new DataError(`missing data file ${path}; ${expected}`);
  if (statSync(path).isDirectory()) throw new DataError(`data file ${path} is a folder; ${expected}`);
  try {
    return readFileSync(path);
  } catch (e) {
    throw new DataError(`cannot read data file ${path}: ${(e as Error).message}`);
  }
}

/** Reads an optional text file of names, one per line (blank lines dropped); undefined when absent. */
export function readNameList(path: string): string[] | undefined {
  if (!existsSync(path)) return undefined;
  if (statSync(path).isDirectory()) throw new DataError(`${path} is a folder, expected a text file of names, one per line`);
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
