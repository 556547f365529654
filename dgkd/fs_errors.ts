// File-system failures as messages a user can act on: the path, what went wrong, and what was expected.
// Node's fs errors carry a code, the system call and the path; any of them reaching the entry point exits 2.

import { statSync } from 'node:fs';

const REASONS: Record<string, string> = {
  EACCES: 'permission denied (expected a folder this user may write to)',
  EPERM: 'operation not permitted (expected a folder this user may write to)',
  EROFS: 'the file system is read-only (expected a writable folder)',
  ENOTDIR: 'a part of the path is a file, not a folder',
  EISDIR: 'a folder stands where a file is expected',
  ENAMETOOLONG: 'the name is too long for the file system',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  ENOENT: 'no such file or folder',
  EEXIST: 'something already exists there',
  EMFILE: 'too many open files',
};

export interface FsError {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** Whether two paths name one existing file (the same path, a symbolic link to it, or a hard link). */
export function sameFile(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false; // one of them does not exist: they cannot be the same file
  }
}

/** The error as `path: reason`, or null when it is not a file-system error we can explain. */
export function describeFsError(e: unknown): string | null {
  const err = e as Partial<FsError> | null;
  if (!err || typeof err.code !== 'string' || !(err.code in REASONS) || typeof err.path !== 'string') return null;
  const action = err.syscall ? ` (${err.syscall})` : '';
  // mkdir -p over a regular file fails with EEXIST: say what stands in the way.
  if (err.code === 'EEXIST' && err.syscall === 'mkdir') return `${err.path}: a file stands where a folder is expected${action}`;
  const target = err.dest ? `${err.path} → ${err.dest}` : err.path;
  return `${target}: ${REASONS[err.code]}${action}`;
}
