// The coordinator's side of a queue run (`train.ts … --queue redis://… --store DIR`): the pipeline is planned as
// in-process, then each stage becomes a BullMQ job whose id is the stage's cache key — so a resubmitted stage,
// or one a second coordinator submits at the same time, is the same job. A job is submitted only once every
// stage it learns from has finished. BullMQ flows are trees (one parent per job) while a DGKD student depends on
// the teacher and every assistant, so the coordinator schedules by dependency itself rather than compiling the
// graph into flows. When every stage is done, the run reads the results from the store and writes the usual
// table, summary.json, report and curves (pipeline.ts).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { ExperimentConfig } from '../settings/config.ts';
import type { Stage } from '../experiment/plan.ts';
import type { StageExecutor } from '../experiment/run.ts';
import { codeId } from './code_id.ts';
import { stageDir } from '../experiment/folders.ts';
import { Interrupted } from '../fit/trainer.ts';
import { QUEUE_NAME, QueueError, connectionOptions, type StageJob } from './connection.ts';
import { EXIT, exitCodeOfReason } from '../errors.ts';
import type { QueueSettings } from '../settings/options.ts';


/** Stages that failed (and those that could not run because a stage they learn from failed). */
export class StageFailures extends Error {
  override name = 'StageFailures';
  constructor(
    message: string,
    /** As in-process: 2 when a stage failed on bad input, else 3 when a loss diverged, else 1. */
    readonly exitCode: 1 | 2 | 3,
  ) {
    super(message);
  }
}

const POLL_MS = 500;
/** How long one Redis call may take before the queue counts as lost (a live Redis answers in milliseconds). */
const CALL_MS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Redis did not answer one call in time, or refused it. */
class QueueLost extends Error {
  constructor(
    message: string,
    readonly since: number,
  ) {
    super(message);
  }
}

/** The command that continues this run once Redis is back: the same one, with --resume. */
function continueCommand(): string {
  const args = process.argv.slice(2);
  return `npx tsx dgkd/train.ts ${[...args, ...(args.includes('--resume') ? [] : ['--resume'])].join(' ')}`;
}

export function queueExecutor(q: QueueSettings, cfg: ExperimentConfig, signal: { stop: boolean }): StageExecutor {
  const url = q.url;
  return async (stages, progress, dataId) => {
    const queue = new Queue<StageJob>(QUEUE_NAME, { connection: connectionOptions(url) });
    let lastError = '';
    queue.on('error', (e) => (lastError = e.message || String(e))); // BullMQ re-emits the connection's errors
    const isDone = (s: Stage) => existsSync(join(stageDir(cfg, s.key), 'done.json'));
    const done = new Set(stages.filter(isDone).map((s) => s.key));
    const trained = new Set<string>();
    const failed = new Map<string, string>();
    const submitted = new Map<string, number>();
    const resubmitted = new Set<string>();
    const byKey = new Map(stages.map((s) => [s.key, s]));
    const log = (line: string) => progress.log(`[queue] ${line}`);
    const warn = (line: string) => console.error(`[queue] ${line}`); // shown even with --quiet
    const store = cfg.store ?? cfg.out;
    const stopped = () =>
      new Interrupted(`stopped: ${done.size} of ${stages.length} stages are in the store ${store}; workers finish what they hold; continue with: ${continueCommand()}`);
    /** One Redis call, bounded in time, and abandoned at once on a signal. */
    const call = <T>(what: Promise<T>): Promise<T> =>
      new Promise<T>((resolve, reject) => {
        const since = Date.now();
        const timer = setTimeout(() => finish(() => reject(new QueueLost(lastError || `no answer in ${CALL_MS / 1000} s`, since))), CALL_MS);
        const watch = setInterval(() => signal.stop && finish(() => reject(stopped())), 100);
        let settled = false;
        const finish = (f: () => void) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearInterval(watch);
          f();
        };
        what.then(
          (v) => finish(() => resolve(v)),
          (e: Error) => finish(() => reject(new QueueLost(e.message || lastError, since))),
        );
      });
    /** One pass over the stages: submit those whose teachers are done, collect those that finished. */
    const round = async () => {
      for (const s of stages) {
        if (done.has(s.key) || failed.has(s.key) || submitted.has(s.key)) continue;
        const broken = s.teachers.find((t) => failed.has(t.key));
        if (broken) {
          failed.set(s.key, `not trained: it learns from ${broken.name}, which failed`);
          continue;
        }
        if (!s.teachers.every((t) => done.has(t.key))) continue;
        // A job that failed in an earlier run is removed so the stage is tried again; a completed or running
        // one (another coordinator's) is kept, and adding the same id again is a no-op.
        const earlier = await call(queue.getJob(s.key));
        if (earlier && (await call(earlier.getState())) === 'failed') await call(earlier.remove());
        await call(
          queue.add('stage', { cfg, stage: s, dataId, codeId: codeId() }, {
            jobId: s.key,
            attempts: 3,
            backoff: { type: 'exponential', delay: 5000 },
            removeOnComplete: false,
            removeOnFail: false,
          }),
        );
        submitted.set(s.key, Date.now());
        log(`${s.name}: submitted`);
      }
      for (const [key, since] of submitted) {
        if (done.has(key) || failed.has(key)) continue;
        const s = byKey.get(key)!;
        const job = await call(queue.getJob(key));
        const state = job ? await call(job.getState()) : 'missing';
        if (state === 'completed' || isDone(s)) {
          if (!isDone(s)) {
            // Completed for another store (an earlier run on this Redis): train it again, here. Twice means the
            // workers write somewhere else.
            if (!resubmitted.has(key)) {
              resubmitted.add(key);
              await call(job!.remove());
              submitted.delete(key);
              continue;
            }
            throw new QueueError(
              `job ${key} (${s.name}) completed, but ${stageDir(cfg, key)} holds no done.json: do the workers' --store and this --store name the same storage?`,
            );
          }
          done.add(key);
          trained.add(key);
          log(`${s.name}: done (${((Date.now() - since) / 1000).toFixed(0)} s)`);
        } else if (state === 'failed') {
          failed.set(key, job?.failedReason ?? 'failed');
          log(`${s.name}: FAILED: ${job?.failedReason}`);
        } else if (state === 'missing') {
          submitted.delete(key); // removed by someone, or Redis came back empty: submit it again
        }
      }
    };
    log(`${stages.length} stages, ${done.size} already in the store ${store}; waiting for workers on ${url}`);
    let lostSince = 0;
    try {
      while (done.size + failed.size < stages.length) {
        if (signal.stop) throw stopped();
        try {
          await round();
          if (lostSince) warn(`Redis at ${url} answers again after ${((Date.now() - lostSince) / 1000).toFixed(0)} s; carrying on`);
          lostSince = 0;
        } catch (e) {
          if (!(e instanceof QueueLost)) throw e;
          // A stage a worker finishes meanwhile still lands in the store: the rounds after Redis is back see it.
          if (!lostSince) {
            lostSince = e.since;
            warn(`lost Redis at ${url} (${e.message}); trying again for up to ${q.timeoutSeconds} s (--queue-timeout)`);
          } else if (Date.now() - lostSince > q.timeoutSeconds * 1000) {
            throw new QueueError(
              `--queue ${url}: Redis has not answered for ${q.timeoutSeconds} s (--queue-timeout; last error: ${e.message}). ` +
                `${done.size} of ${stages.length} stages are finished and kept in ${store}; once Redis is back, continue with: ${continueCommand()}`,
            );
          }
        }
        await sleep(POLL_MS);
      }
    } finally {
      // close() waits for Redis; a lost one gets a disconnect instead.
      await Promise.race([queue.close(), sleep(300)]);
      await Promise.race([queue.disconnect().catch(() => {}), sleep(300)]);
    }
    if (failed.size) {
      const lines = [...failed].map(([key, why]) => `  ${byKey.get(key)!.name}: ${why}`);
      const reasons = [...failed.values()];
      // Bad input outranks a diverged loss, which outranks anything else: the status a run in one process would give.
      const codes = reasons.map(exitCodeOfReason);
      const exitCode = [EXIT.badInput, EXIT.diverged].find((c) => codes.includes(c)) ?? EXIT.unexpected;
      throw new StageFailures(`${failed.size} of ${stages.length} stages failed:\n${lines.join('\n')}`, exitCode);
    }
    return trained;
  };
}
