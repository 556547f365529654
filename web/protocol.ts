// The messages between the demo page (web/main.ts) and the worker that trains (web/worker.ts).

import type { CheckResult } from './check.ts';

export type DemoMethod = 'nokd' | 'kd' | 'takd' | 'dgkd';

export interface DemoConfig {
  teacher: string;
  assistant: string;
  student: string;
  methods: DemoMethod[];
  epochs: number;
  trainSize: number;
  testSize: number;
  batchSize: number;
  lr: number;
  seed: number;
}

/** Small enough to finish in a few minutes on a laptop GPU. */
export const DEFAULT_CONFIG: DemoConfig = {
  teacher: 'plain6',
  assistant: 'plain4',
  student: 'plain2',
  methods: ['nokd', 'kd', 'takd', 'dgkd'],
  epochs: 3,
  trainSize: 4096,
  testSize: 1000,
  batchSize: 32,
  lr: 0.01,
  seed: 0,
};

export interface ResultRow {
  stage: string;
  method: string;
  arch: string;
  testAcc: number;
  seconds: number;
}

export type ToWorker = { type: 'start'; config: DemoConfig } | { type: 'pause' } | { type: 'resume' } | { type: 'check' };

export type FromWorker =
  | { type: 'ready'; adapter: string }
  | { type: 'stage'; stage: string; method: string; index: number; total: number }
  | { type: 'step'; stage: string; epoch: number; step: number; steps: number; loss: number; imagesPerSec: number }
  | { type: 'epoch'; stage: string; epoch: number; trainLoss: number; testAcc: number }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'done'; rows: ResultRow[]; seconds: number }
  | { type: 'check'; result: CheckResult }
  | { type: 'error'; message: string };
