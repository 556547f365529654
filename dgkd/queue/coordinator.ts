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
import type { ExperimentConfig } from '../config.ts';
import type { Stage, StageExecutor } from '../pipeline.ts';
import { stageDir } from '../stage_dir.ts';
import { QUEUE_NAME, QueueError, connectionOptions, type StageJob } from './connection.ts';

/** Marks a failure the worker judged to be bad input: retrying cannot help (worker.ts). */
export const BAD_INPUT = 'bad input: ';

/** Stages that failed (and those that could not run because a stage they learn from failed). */
export class StageFailures extends Error {
  override name = 'StageFailures';
  constructor(
    message: string,
    readonly badInput: boolean,
  ) {
    super(message);
  }
}

const POLL_MS = 500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function queueExecutor(url: string, cfg: ExperimentConfig): StageExecutor {
  return async (stages, progress) => {
    const queue = new Queue<StageJob>(QUEUE_NAME, { connection: connectionOptions(url) });
    const isDone = (s: Stage) => existsSync(join(stageDir(cfg, s.key), 'done.json'));
    const done = new Set(stages.filter(isDone).map((s) => s.key));
    const trained = new Set<string>();
    const failed = new Map<string, string>();
    const submitted = new Map<string, number>();
    const resubmitted = new Set<string>();
    const byKey = new Map(stages.map((s) => [s.key, s]));
    const log = (line: string) => progress.log(`[queue] ${line}`);
    log(`${stages.length} stages, ${done.size} already in the store ${cfg.store ?? cfg.out}; waiting for workers on ${url}`);
    try {
      while (done.size + failed.size < stages.length) {
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
          const earlier = await queue.getJob(s.key);
          if (earlier && (await earlier.getState()) === 'failed') await earlier.remove();
          await queue.add('stage', { cfg, stage: s }, {
            jobId: s.key,
            attempts: 3,
            backoff: { type: 'exponential', delay: 5000 },
            removeOnComplete: false,
            removeOnFail: false,
          });
          submitted.set(s.key, Date.now());
          log(`${s.name}: submitted`);
        }
        for (const [key, since] of submitted) {
          if (done.has(key) || failed.has(key)) continue;
          const s = byKey.get(key)!;
          const job = await queue.getJob(key);
          const state = job ? await job.getState() : 'missing';
          if (state === 'completed') {
            if (!isDone(s)) {
              // Completed for another store (an earlier run on this Redis): train it again, here. Twice means the
              // workers write somewhere else.
              if (!resubmitted.has(key)) {
                resubmitted.add(key);
                await job!.remove();
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
            submitted.delete(key); // removed by someone: submit it again
          }
        }
        await sleep(POLL_MS);
      }
    } finally {
      await queue.close();
    }
    if (failed.size) {
      const lines = [...failed].map(([key, why]) => `  ${byKey.get(key)!.name}: ${why}`);
      const badInput = [...failed.values()].some((why) => why.startsWith(BAD_INPUT));
      throw new StageFailures(`${failed.size} of ${stages.length} stages failed:\n${lines.join('\n')}`, badInput);
    }
    return trained;
  };
}
