// Lock files: who is using a run folder or training a stage. A lock is a small JSON file (pid, host, start time,
// command) created atomically — written under a temporary name, then hard-linked to its own name, which fails if
// the name exists — so a reader never sees half a lock. A lock whose process is gone is stale and taken over: on
// this host, its pid is not running; on another host (a shared store), its holder stopped touching it — a live
// holder refreshes the file's time every HEARTBEAT_MS.

import { linkSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';

const HEARTBEAT_MS = 30_000;
/** A lock of another host untouched this long is stale (several missed heartbeats). */
const REMOTE_STALE_MS = 5 * HEARTBEAT_MS;

export interface LockHolder {
  pid: number;
  host: string;
  started: string;
  command: string;
}

export interface Lock {
  path: string;
  /** Removes the lock if it is still this process's. */
  release(): void;
  /** The process that held a stale lock taken over, for a note. */
  tookOverFrom?: LockHolder;
}

const me = (): LockHolder => ({
  pid: process.pid,
  host: hostname(),
  started: new Date().toISOString(),
  command: process.argv.slice(1).join(' '),
});

export const describeHolder = (h: LockHolder) => `process ${h.pid} on ${h.host} (since ${h.started}: ${h.command})`;

/** Whether a process of this host is running (EPERM: it is, but belongs to someone else). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Whether the holder may still be at work: a live process here; on another host, a lock touched lately. */
function mayBeAlive(h: LockHolder, path: string): boolean {
  if (h.host === hostname()) return running(h.pid);
  try {
    return Date.now() - statSync(path).mtimeMs < REMOTE_STALE_MS;
  } catch {
    return false;
  }
}

const held = new Set<string>();
let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => held.forEach(releaseIfMine));
  const beat = setInterval(() => {
    const now = new Date();
    for (const path of held) {
      try {
        utimesSync(path, now, now);
      } catch {
        /* removed by hand: nothing to keep alive */
      }
    }
  }, HEARTBEAT_MS);
  beat.unref();
}

/**
 * Takes the lock at `path`, or returns who holds it. A stale lock (its process gone) is taken over; a lock file
 * that cannot be parsed is treated as held by an unknown process on another host (never removed here).
 */
export function tryLock(path: string): { lock: Lock } | { holder: LockHolder } {
  const self = me();
  const tmp = `${path}.${self.pid}.${Date.now()}.tmp`;
  writeFileSync(tmp, JSON.stringify(self));
  try {
    let tookOverFrom: LockHolder | undefined;
    for (let attempt = 0; ; attempt++) {
      try {
        linkSync(tmp, path);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 3) throw e;
        const holder = readHolder(path) ?? { pid: 0, host: '(unreadable lock file)', started: '?', command: '?' };
        // Our own (a stage this process already holds): shared, released by its first taker.
        if (holder.pid === self.pid && holder.host === self.host) return { lock: { path, release: () => {} } };
        if (mayBeAlive(holder, path)) return { holder };
        // Stale: move it aside under a name of our own (only one taker wins the rename), then try again.
        const aside = `${path}.stale.${self.pid}`;
        try {
          renameSync(path, aside);
          rmSync(aside, { force: true });
          tookOverFrom = holder;
        } catch {
          /* another process took it first: try again */
        }
      }
    }
    held.add(path);
    installHooks();
    return { lock: { path, release: () => releaseIfMine(path), ...(tookOverFrom ? { tookOverFrom } : {}) } };
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** The process holding the lock at `path` when it may still be at work (not this process), or null. */
export function liveHolder(path: string): LockHolder | null {
  const h = readHolder(path);
  if (!h || (h.pid === process.pid && h.host === hostname())) return null;
  return mayBeAlive(h, path) ? h : null;
}

function releaseIfMine(path: string): void {
  held.delete(path);
  const h = readHolder(path);
  if (h && h.pid === process.pid && h.host === hostname()) {
    try {
      unlinkSync(path);
    } catch {
      /* already gone */
    }
  }
}
