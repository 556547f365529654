// Where results live, and the guards on them. A run writes its reports to <out>/<name>/; a stage's checkpoints,
// metrics and done.json live in the store, <store>/_cache/<stage key>/ (the store being --store, else --out),
// keyed by what decides the stage's result, so a stage trained once is found by every run (and every queue
// worker) that needs it. Before anything trains, nothing an earlier run left is lost or silently mixed in:
//  - a stage interrupted earlier (a checkpoint but no done.json) is never thrown away without --resume;
//  - --resume continues only the same experiment: changed settings are listed and refused;
//  - an earlier finished run of the same name keeps its reports (moved to previous/<time>/), since this run
//    rewrites summary.json, report.md and curves.svg after every stage.

import { existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { ExperimentConfig } from '../settings/config.ts';
import { readCheckpoint } from '../fit/checkpoint.ts';
import { LAST, type FitResult } from '../fit/trainer.ts';
import { describeHolder, liveHolder, tryLock, type Lock } from '../locks.ts';
import type { Progress } from '../fit/progress.ts';
import { BadInput } from '../errors.ts';

/** A stage's folder in the store: every path to a stage's files goes through here (the one place an object store would plug in). */
export const stageDir = (cfg: Pick<ExperimentConfig, 'out' | 'store'>, key: string) => join(cfg.store ?? cfg.out, '_cache', key);

/** The lock of a stage being trained (locks.ts): beside the stages, so a stage folder removed and made again keeps it. */
export const stageLockPath = (cfg: Pick<ExperimentConfig, 'out' | 'store'>, key: string) => join(cfg.store ?? cfg.out, '_locks', `${key}.lock`);

export class RunStateError extends BadInput {
  override name = 'RunStateError';
}

/**
 * A finished stage's result, from its done.json. The marker is what makes hours of training count as done, so one
 * that cannot be read (a merge's conflict markers, a truncated copy) stops the run with its name rather than a
 * stack trace, and is never silently overwritten by training the stage again: the checkpoints beside it may be
 * all that is left of that training.
 */
export function readDoneMarker(path: string): { result: FitResult } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new RunStateError(
      `${path}: not a finished stage's record (${(e as Error).message}). Restore it (e.g. git checkout), ` +
        `or delete it to train the stage again from its checkpoint with --resume`,
    );
  }
  const result = (parsed as { result?: unknown } | null)?.result;
  if (!result || typeof result !== 'object' || Array.isArray(result)) {
    throw new RunStateError(`${path}: not a finished stage's record (expected an object with a "result" object)`);
  }
  return { result: result as FitResult };
}

/** Leaf settings as 'a.b.c' → JSON value. */
function flatten(o: unknown, at = '', out: Record<string, string> = {}): Record<string, string> {
  if (o && typeof o === 'object' && !Array.isArray(o)) {
    for (const [k, v] of Object.entries(o)) flatten(v, at ? `${at}.${k}` : k, out);
  } else {
    out[at] = JSON.stringify(o);
  }
  return out;
}

/**
 * Settings added after runs were made, and the value that means what their absence meant: a run written before
 * the setting existed resumes when the setting has that value.
 */
const ABSENT_MEANS: Record<string, string> = {
  testSplit: '0',
  'recipe.viewBank': '0',
  // Issue 27's baselines and --teacher-loss, at their defaults (config.ts).
  teacherLoss: '"kd"',
  'dkd.alpha': '1',
  'dkd.beta': '8',
  'dkd.warmup': '"auto"',
  'dist.beta': '2',
  'dist.gamma': '2',
  'at.beta': '1000',
  'fitnets.weight': '100',
  'rkd.distance': '25',
  'rkd.angle': '50',
};

/** Whether two data folders (as flattened JSON strings) name the same place: `../data` and `/work/data` do, from /work/main. */
function sameFolder(a: string | undefined, b: string | undefined): boolean {
  const path = (v: string | undefined) => (v === undefined ? null : JSON.parse(v));
  const [x, y] = [path(a), path(b)];
  return typeof x === 'string' && typeof y === 'string' && resolve(x) === resolve(y);
}

/** Settings that differ between two configs (what --resume may not change). */
export function settingsDiff(before: unknown, now: ExperimentConfig): string[] {
  // Where the run and its stages are kept decides nothing they hold: a run folder found by another path (another
  // working folder, or copied elsewhere with its store) resumes.
  const ignore = new Set(['resume', 'quiet', 'out', 'store']);
  const a = flatten(before);
  const b = flatten(now);
  const same = (k: string) =>
    a[k] === b[k] ||
    (ABSENT_MEANS[k] !== undefined && (a[k] ?? ABSENT_MEANS[k]) === (b[k] ?? ABSENT_MEANS[k])) ||
    (k === 'dataDir' && sameFolder(a[k], b[k]));
  return [...new Set([...Object.keys(a), ...Object.keys(b)])]
    .filter((k) => !ignore.has(k) && !same(k))
    .map((k) => `${k}: was ${a[k] ?? '(absent)'}, now ${b[k] ?? '(absent)'}`);
}

/**
 * What --resume may go on from, and what a run without it may not overwrite unawares: with --resume, the settings
 * must be the run's (the data folder may have moved when the run's stages are keyed by the data's content,
 * `dataId`, and the content is the same); without it, no stage may hold an interrupted run's checkpoint.
 */
export function checkRunState(cfg: ExperimentConfig, runDir: string, stages: { name: string; key: string }[], dataId: string): void {
  if (!cfg.resume) {
    for (const s of stages) {
      const dir = stageDir(cfg, s.key);
      const last = join(dir, LAST);
      if (liveHolder(stageLockPath(cfg, s.key))) continue; // another run is training it now: this one will wait
      if (existsSync(last) && !existsSync(join(dir, 'done.json'))) {
        let epoch = '?';
        try {
          epoch = String(readCheckpoint(last).meta.epoch);
        } catch {
          /* unreadable: still partial work worth a word */
        }
        throw new RunStateError(
          `stage ${s.name} was interrupted earlier: ${last} holds it after ${epoch} epoch(s). ` +
            `Add --resume to continue it, or delete ${dir} to train it again from scratch`,
        );
      }
    }
    return;
  }
  const summary = join(runDir, 'summary.json');
  if (!existsSync(summary)) return;
  let before: unknown;
  let beforeData: unknown;
  try {
    ({ config: before, dataId: beforeData } = JSON.parse(readFileSync(summary, 'utf8')));
  } catch {
    return; // not ours to judge; the stages' own checkpoints decide what resumes
  }
  if (typeof beforeData === 'string' && beforeData !== dataId) {
    throw new RunStateError(
      `--resume: the data differ from the run in ${runDir}: its content was ${beforeData}, ${cfg.dataDir ?? `the built-in ${cfg.dataset} data`} holds ${dataId} ` +
        '(other files, or other splits). Resume with the run\'s data, or start a new run under another --name',
    );
  }
  // A run whose stages are keyed by the data's content finds them wherever the same data lie.
  const diff = settingsDiff(before, cfg).filter((d) => !(typeof beforeData === 'string' && d.startsWith('dataDir:')));
  if (diff.length) {
    // Earlier runs' stage keys hold the data folder's absolute path: on a machine that keeps the data elsewhere,
    // a link at the old path lets the run find its stages.
    const moved = diff.length === 1 && diff[0].startsWith('dataDir:');
    const wasDir = (before as { dataDir?: string }).dataDir;
    throw new RunStateError(
      `--resume: the settings differ from the run in ${runDir}: ${diff.join('; ')}. ` +
        (moved && wasDir && isAbsolute(wasDir)
          ? `The stages are keyed by the data folder's path: give --data-dir ${wasDir}, if need be as a link to this machine's copy (ln -s ${resolve(cfg.dataDir!)} ${wasDir})`
          : 'Resume with the same settings, or start a new run under another --name'),
    );
  }
}

/**
 * Claims the run folder for this process: a second run on the same folder (the same command twice, or another
 * with the same --out and --name) is refused, naming the process that holds it.
 */
export function lockRunFolder(runDir: string, progress: Progress): Lock {
  const path = join(runDir, '.lock');
  const r = tryLock(path);
  if ('holder' in r) {
    throw new RunStateError(
      `${runDir} is in use by ${describeHolder(r.holder)}: wait for that run to end, or give this one another --name or --out ` +
        `(the lock is ${path})`,
    );
  }
  if (r.lock.tookOverFrom) progress.log(`note: took over ${path} from ${describeHolder(r.lock.tookOverFrom)}, which is no longer running`);
  return r.lock;
}

export function keepEarlierRun(runDir: string, resume: boolean): string | null {
  const summary = join(runDir, 'summary.json');
  if (resume || !existsSync(summary) || !statSync(summary).isFile()) return null;
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dest = join(runDir, 'previous', stamp);
  mkdirSync(dest, { recursive: true });
  for (const f of ['summary.json', 'report.md', 'curves.svg', 'sweep.md', 'heatmap.svg', 'stages']) {
    if (existsSync(join(runDir, f))) renameSync(join(runDir, f), join(dest, f));
  }
  return dest;
}
