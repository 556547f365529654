// Atomic file output: write a temporary file in the same folder, fsync it, then rename over the target. A run
// killed at any moment leaves either the previous complete file or the new complete file, never a torn one.

import { closeSync, fsyncSync, openSync, renameSync, writeSync, mkdirSync, rmSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';

export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  try {
    const fd = openSync(tmp, 'w');
    try {
      let off = 0;
      while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    // Name the file being written, not the temporary one; a failed write on an open file (a full disk) carries
    // no path at all. The previous file, if any, is untouched.
    if (e && typeof (e as { code?: unknown }).code === 'string') (e as { path?: string }).path = path;
    throw e;
  }
  // Make the rename itself durable.
  try {
    const dfd = openSync(dirname(path), 'r');
    fsyncSync(dfd);
    closeSync(dfd);
  } catch {
    /* some file systems do not allow fsync on directories */
  }
}
