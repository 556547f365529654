// Where a stage's checkpoints, metrics and done.json live: `<store>/_cache/<stage key>/`, the store being --store
// or else --out. Keyed by what decides the stage's result, so a stage trained once is found by every run (and
// every queue worker) that needs it.

import { join } from 'node:path';
import type { ExperimentConfig } from './config.ts';

export const stageDir = (cfg: Pick<ExperimentConfig, 'out' | 'store'>, key: string) => join(cfg.store ?? cfg.out, '_cache', key);

/** The lock of a stage being trained (locks.ts): beside the stages, so a stage folder removed and made again keeps it. */
export const stageLockPath = (cfg: Pick<ExperimentConfig, 'out' | 'store'>, key: string) => join(cfg.store ?? cfg.out, '_locks', `${key}.lock`);
