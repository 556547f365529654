// writeFileAtomic when the disk fills mid-write: the error names the file being written (a failed write on an open
// file carries no path of its own), the command line shows it as bad input, and the previous file stays whole.
import { describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const disk = { full: false };

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((...args: Parameters<typeof fs.writeSync>) => {
    if (disk.full) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
    return fs.writeSync(...args);
  }) as typeof fs.writeSync;
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { writeFileAtomic } = await import('../dgkd/fit/atomic.ts');
const { badInputMessage } = await import('../dgkd/bad_input.ts');

describe('writeFileAtomic on a full disk', () => {
  it('names the target, keeps the previous file, leaves no temporary file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dgkd-full-'));
    const target = join(dir, 'last.safetensors');
    writeFileAtomic(target, 'the previous checkpoint');
    disk.full = true;
    let caught: unknown;
    try {
      writeFileAtomic(target, 'the next checkpoint');
    } catch (e) {
      caught = e;
    } finally {
      disk.full = false;
    }
    expect(badInputMessage(caught)).toBe(`${target}: the disk is full (write)`);
    expect(readFileSync(target, 'utf8')).toBe('the previous checkpoint');
    expect(readdirSync(dir)).toEqual(['last.safetensors']);
  });
});
