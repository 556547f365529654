// The queue's Redis: connection settings from a redis:// URL, a reachability check that fails fast with the URL
// named (BullMQ itself would retry for ever), and the names both sides agree on.

import { Redis, type RedisOptions } from 'ioredis';
import type { ExperimentConfig } from '../settings/config.ts';
import type { Stage } from '../experiment/plan.ts';
import { BadInput } from '../errors.ts';

export const QUEUE_NAME = 'dgkd-stages';

/** A job: the stage to train (with the stages it learns from, by key) and the experiment's settings. */
export interface StageJob {
  cfg: ExperimentConfig;
  stage: Stage;
  /** The coordinator's dataFingerprint (absent in jobs of older coordinators). */
  dataId?: string;
  /** The coordinator's codeId: its training sources (absent in jobs of older coordinators). */
  codeId?: string;
}

export class QueueError extends BadInput {
  override name = 'QueueError';
}

export function connectionOptions(url: string): RedisOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new QueueError(`--queue: expected a redis://HOST:PORT URL, got '${url}'`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new QueueError(`--queue: expected a redis://HOST:PORT URL, got '${url}'`);
  return {
    host: u.hostname,
    port: Number(u.port || 6379),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    db: Number(u.pathname.slice(1) || 0),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    maxRetriesPerRequest: null, // BullMQ's blocking commands need it
  };
}

/** Throws QueueError naming the URL unless Redis answers a PING within a few seconds. */
export async function checkRedis(url: string): Promise<void> {
  const client = new Redis({ ...connectionOptions(url), lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 1, retryStrategy: () => null });
  client.on('error', () => {}); // reported below
  try {
    await client.connect();
    await client.ping();
  } catch (e) {
    throw new QueueError(`--queue ${url}: cannot reach Redis (${(e as Error).message || String(e)}); is redis-server running there?`);
  } finally {
    client.disconnect();
  }
}
