// One stage of a queue job, in its own process (started by worker.ts, which keeps the job's lock renewed while
// this trains): reads the job from stdin, trains the stage into the store — resuming its last checkpoint if an
// earlier attempt left one — and exits. 0: trained (or found trained); 2: bad input (no retry helps); 3: the
// loss diverged (deterministic: no retry helps either); 130/143: stopped by a signal after saving; 1: anything
// else (retried). The reason goes to the worker over IPC. If the worker dies, so does this process: a stage
// must never be trained by two processes at once.

import { initGpu } from '../../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../gpu_options.ts';
import { GpuError } from '../../engine/index.ts';
import { dataFingerprint, loadData } from '../experiment/data.ts';
import { DataError } from '../data/index.ts';
import { runStage } from '../experiment/stage.ts';
import { Progress } from '../fit/progress.ts';
import { Interrupted, NonFiniteLossError } from '../fit/trainer.ts';
import { badInputMessage } from '../bad_input.ts';
import { QueueError, type StageJob } from './connection.ts';
import { EXIT } from '../errors.ts';
import { codeId } from './code_id.ts';

/** Tells the worker how the stage ended, then exits (the GPU device would keep the process alive otherwise). */
const report = (code: number, message: string) => {
  if (process.send) process.send({ code, message }, () => process.exit(code));
  else process.exit(code);
};

process.on('disconnect', () => process.exit(70));

async function main(): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const job = JSON.parse(Buffer.concat(chunks).toString('utf8')) as StageJob & { store: string; dataDir?: string };
  const cfg = { ...job.cfg, store: job.store, resume: true };
  // Another version of the code than the coordinator's: no retry on this worker helps (bad input, exit 2).
  if (job.codeId && job.codeId !== codeId()) {
    throw new QueueError(
      `this worker's training code (engine/, shaders/, dgkd/: ${codeId()}) is not the coordinator's (${job.codeId}): ` +
        'run the same version of the code on every host',
    );
  }
  const signal = { stop: false };
  for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.on(sig, () => (signal.stop = true));
  await initGpu({ ...gpuOptionsFromEnv(), log: false });
  // This machine's copy of the data (the worker's --data-dir), checked to be the coordinator's to the last pixel;
  // cfg keeps the coordinator's path, which names the run's data in view banks and checkpoints (stage keys hold its content).
  const data = loadData(job.dataDir ? { ...cfg, dataDir: job.dataDir } : cfg);
  if (job.dataId && dataFingerprint(data) !== job.dataId) {
    const where = job.dataDir ? `--data-dir ${job.dataDir}` : `${cfg.dataDir ?? `the built-in ${cfg.dataset} data`} (the coordinator's --data-dir)`;
    throw new DataError(
      `${where}: not the data the coordinator trains on (content ${dataFingerprint(data)}, the run's ${job.dataId}): ` +
        `other files or another version of ${cfg.dataset} on this machine; give the worker --data-dir with the run's copy`,
    );
  }
  // The worker's log says what it trains whatever the coordinator's --quiet.
  const r = await runStage(cfg, job.stage, data, new Progress(false), signal);
  report(0, r.reused ? 'already trained' : `trained: best test ${(r.result.bestAcc * 100).toFixed(2)}%`);
}

main().catch((e: unknown) => {
  const err = e as Error;
  const badInput = badInputMessage(err);
  if (badInput !== null) report(EXIT.badInput, badInput);
  else if (err instanceof NonFiniteLossError) report(err.exitCode, err.message);
  else if (err instanceof Interrupted) report(143, err.message);
  else report(EXIT.unexpected, err instanceof GpuError ? err.message : (err?.stack ?? String(e)));
});
