// The command line: its subcommands (a run, sweep, export, eval, models; settings/cli.ts parses them) and its exit
// codes: 0 ok, 2 bad input (flags, data, checkpoints), 3 non-finite loss, 129/130/143 interrupted by SIGHUP/SIGINT/SIGTERM
// (checkpoint saved), 1 anything unexpected. `tsx dgkd/train.ts` is the entry that calls it; with no arguments
// it runs the quick built-in pipeline.

import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from './gpu_options.ts';
import { GpuError } from '../engine/index.ts';
import { ARCHITECTURES, createModel } from './models/index.ts';
import { parseArgs, usage, UsageError } from './settings/cli.ts';
import { runExperiment } from './experiment/run.ts';
import { loadData, type DataSettings } from './experiment/data.ts';
import { formatTable, tableNotes } from './experiment/report.ts';
import { runSweep } from './experiment/sweep.ts';
import { badInputMessage } from './bad_input.ts';
import { EXIT } from './errors.ts';
import { applyCheckpoint, nonFiniteTensors, readCheckpoint } from './fit/checkpoint.ts';
import { exportModel } from './fit/export.ts';
import { downloadDataset } from './data/download.ts';
import { checkRedis } from './queue/connection.ts';
import { StageFailures, queueExecutor } from './queue/coordinator.ts';
import { evaluate, Interrupted, NonFiniteLossError } from './fit/trainer.ts';
import { TAKD_NORMALISATION } from './data/index.ts';
import { paperConfig } from './settings/config.ts';
import { sameFile } from './fs_errors.ts';

/** Exit codes of a run stopped by a signal (after saving): 128 + the signal's number, as shells report it. */
const EXIT_BY_SIGNAL = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 } as const;
let exitCode: number = EXIT_BY_SIGNAL.SIGINT;

async function main(argv: string[]): Promise<number> {
  const cmd = parseArgs(argv);
  if (cmd.kind === 'help') {
    console.log(cmd.text ?? usage());
    return 0;
  }
  if (cmd.kind === 'export') {
    // Writing the export over the checkpoint (by name, a symlink or a hard link) would lose its training state.
    if (sameFile(cmd.out, cmd.checkpoint)) {
      throw new UsageError(`export: --out ${cmd.out} is the checkpoint being exported (--checkpoint ${cmd.checkpoint}); write the model elsewhere`);
    }
    const ck = readCheckpoint(cmd.checkpoint);
    for (const b of nonFiniteTensors(ck)) console.error(`warning: ${cmd.checkpoint}: tensor '${b.name}' holds ${b.count} non-finite values`);
    const { tensors } = exportModel(ck, cmd.checkpoint, cmd.out);
    console.log(`wrote ${cmd.out}: ${ck.meta.arch}, ${tensors} tensors (a PyTorch state dict; dgkd/pytorch/models.py loads it)`);
    return 0;
  }
  // Redis first: an unreachable queue must fail before anything is written.
  if ((cmd.kind === 'run' || cmd.kind === 'sweep') && cmd.queue) await checkRedis(cmd.queue.url);
  if ((cmd.kind === 'run' || cmd.kind === 'sweep') && cmd.download) await downloadDataset(cmd.config.dataset, cmd.config.dataDir);
  await initGpu(gpuOptionsFromEnv());
  if (cmd.kind === 'models') {
    const rows = ARCHITECTURES.map((name) => {
      const m = createModel(name, { numClasses: cmd.classes });
      const params = m.parameterCount();
      m.dispose();
      return { name, params };
    });
    if (cmd.json) rows.forEach((r) => console.log(JSON.stringify(r)));
    else {
      const width = Math.max(10, ...rows.map((r) => r.name.length));
      rows.forEach((r) => console.log(`${r.name.padEnd(width)} ${r.params.toLocaleString('en-US').padStart(12)} parameters (${cmd.classes} classes)`));
    }
    return 0;
  }
  if (cmd.kind === 'eval') {
    const ck = readCheckpoint(cmd.checkpoint);
    const cfg = paperConfig();
    // The data as the checkpoint was trained on (same built-in sizes and seed, same held-out parts), unless the
    // flags say otherwise; a checkpoint from another dataset keeps only what the flags give.
    const trained = ck.meta.data as Partial<DataSettings> | undefined;
    cfg.dataset = cmd.dataset ?? String(ck.meta.dataset ?? 'synthetic');
    if (trained && trained.dataset === cfg.dataset) Object.assign(cfg, trained);
    if (cmd.dataDir !== undefined) cfg.dataDir = cmd.dataDir;
    if (cmd.valSplit !== undefined) cfg.valSplit = cmd.valSplit;
    if (cmd.testSplit !== undefined) cfg.testSplit = cmd.testSplit;
    if (cmd.syntheticTrain !== undefined) cfg.syntheticTrain = cmd.syntheticTrain;
    if (cmd.syntheticTest !== undefined) cfg.syntheticTest = cmd.syntheticTest;
    if (cmd.seed !== undefined) cfg.seed = cmd.seed;
    if (cmd.download) {
      await downloadDataset(cfg.dataset, cfg.dataDir);
    }
    const data = loadData(cfg, { training: false });
    const evalSet = cmd.valSplit !== undefined && cmd.valSplit > 0 && data.val ? data.val : data.test;
    const model = createModel(ck.meta.arch, { numClasses: data.numClasses, inputSize: data.train.height, inputChannels: data.train.channels });
    applyCheckpoint(ck, cmd.checkpoint, model);
    const r = await evaluate(model, evalSet, TAKD_NORMALISATION, cmd.batchSize);
    console.log(`${model.arch} on ${cfg.dataset} (${evalSet.name}, ${evalSet.size} images): top-1 ${(r.top1 * 100).toFixed(2)}%` + (data.numClasses >= 100 ? `, top-5 ${(r.top5 * 100).toFixed(2)}%` : ''));
    return 0;
  }
  const signal = { stop: false };
  const queued = (cmd.kind === 'run' || cmd.kind === 'sweep') && cmd.queue !== undefined;
  let firstSignal = 0;
  const stop = (name: keyof typeof EXIT_BY_SIGNAL) => {
    const code = EXIT_BY_SIGNAL[name];
    if (signal.stop) {
      // Ctrl-C under `npx tsx` reaches this process twice at once (from the terminal's process group and
      // forwarded by the parent): only a second press, later, quits without saving.
      if (Date.now() - firstSignal > 1000) process.exit(code);
      return;
    }
    signal.stop = true;
    firstSignal = Date.now();
    exitCode = code;
    const what = queued ? 'stopping (queue workers keep training the stages they hold)' : 'stopping after this step and saving a checkpoint';
    process.stderr.write(`\n${name}: ${what} (press Ctrl-C again to quit at once)…\n`);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  // The terminal went away (an ssh session dropped): save like SIGTERM instead of dying mid-epoch. Writes to the
  // gone terminal then fail; losing the log must not lose the checkpoint.
  process.on('SIGHUP', () => {
    for (const out of [process.stdout, process.stderr]) out.on('error', () => {});
    stop('SIGHUP');
  });
  if (!cmd.config.quiet) console.error(cmd.origin);
  const r = cmd.config.recipe;
  if (r.schedule === 'step' && r.epochs < 30 && !cmd.config.quiet) {
    console.error(
      `note: the step schedule divides the learning rate by 10 at 50% and 75% of the ${r.epochs} epochs, so the last ` +
        `quarter runs at lr/100; --schedule cosine suits short runs better`,
    );
  }
  if (cmd.kind === 'sweep') {
    const executor = cmd.queue ? queueExecutor(cmd.queue, cmd.config, signal) : undefined;
    const { markdown } = await runSweep(cmd.config, cmd.grid, signal, executor);
    console.log(`\n${markdown}`);
    console.log(`wrote ${cmd.config.out}/${cmd.config.name}/sweep.md, heatmap.svg, summary.json, report.md, curves.svg`);
    return 0;
  }
  const summary = await runExperiment(cmd.config, signal, undefined, cmd.queue ? queueExecutor(cmd.queue, cmd.config, signal) : undefined);
  console.log(`\n${formatTable(summary.table, summary.selection)}\n\n${tableNotes(summary)}\n`);
  console.log(`wrote ${cmd.config.out}/${cmd.config.name}/summary.json, report.md, curves.svg (${summary.seconds.toFixed(0)} s)`);
  return 0;
}

/** Runs the command line on `argv` and exits with its code; the entry point (train.ts) calls this. */
export function runCommandLine(argv: string[]): void {
  main(argv).then(
    (code) => process.exit(code),
    (e: unknown) => {
      const err = e as Error;
      const badInput = badInputMessage(err);
      if (badInput !== null) {
        console.error(`error: ${badInput}`);
        if (err instanceof UsageError) console.error('(run with --help for the options)');
        process.exit(EXIT.badInput);
      }
      if (err instanceof StageFailures) {
        console.error(`error: ${err.message}`);
        process.exit(err.exitCode);
      }
      if (err instanceof NonFiniteLossError) {
        console.error(`error: ${err.message}`);
        process.exit(err.exitCode);
      }
      if (err instanceof Interrupted) {
        console.error(err.message);
        process.exit(exitCode);
      }
      if (err instanceof GpuError) {
        console.error(`error: ${err.message}`);
        process.exit(EXIT.unexpected);
      }
      console.error(err?.stack ?? String(e));
      process.exit(EXIT.unexpected);
    },
  );
}
