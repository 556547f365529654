// The two settings a `sweep` varies, by method: T × λ for KD, TAKD and DGKD (Hinton KD's temperature and
// weight), α × β for DKD, β × γ for DIST — and for TAKD and DGKD with --teacher-loss dkd or dist, that loss's
// pair when its flags are given as lists. Kept apart from sweep.ts so that the command line reads it without
// loading the pipeline.

import type { ExperimentConfig, Method } from './config.ts';

export interface AxisSpec {
  /** The flag that takes a list in a sweep, and the config key it sets. */
  flag: string;
  key: 'kd.temperature' | 'kd.lambda' | 'dkd.alpha' | 'dkd.beta' | 'dist.beta' | 'dist.gamma';
  /** In labels (`T=4 λ=0.5`), in stage names (`-T4-l0.5`) and on the heat map's axis. */
  symbol: string;
  tag: string;
  label: string;
}

export interface SweepAxis extends AxisSpec {
  values: number[];
}

export interface SweepGrid {
  rows: SweepAxis;
  cols: SweepAxis;
}

const T: AxisSpec = { flag: '--temperature', key: 'kd.temperature', symbol: 'T', tag: 'T', label: 'temperature T' };
const LAMBDA: AxisSpec = { flag: '--lambda', key: 'kd.lambda', symbol: 'λ', tag: 'l', label: 'KD weight λ' };
const DKD_ALPHA: AxisSpec = { flag: '--dkd-alpha', key: 'dkd.alpha', symbol: 'α', tag: 'a', label: 'DKD target-class weight α' };
const DKD_BETA: AxisSpec = { flag: '--dkd-beta', key: 'dkd.beta', symbol: 'β', tag: 'b', label: 'DKD non-target weight β' };
const DIST_BETA: AxisSpec = { flag: '--dist-beta', key: 'dist.beta', symbol: 'β', tag: 'b', label: 'DIST inter-class weight β' };
const DIST_GAMMA: AxisSpec = { flag: '--dist-gamma', key: 'dist.gamma', symbol: 'γ', tag: 'g', label: 'DIST intra-class weight γ' };

export type AxisPair = readonly [AxisSpec, AxisSpec];
const KD_PAIR: AxisPair = [T, LAMBDA];
const DKD_PAIR: AxisPair = [DKD_ALPHA, DKD_BETA];
const DIST_PAIR: AxisPair = [DIST_BETA, DIST_GAMMA];

/** Every flag that takes a list in a sweep (-T is --temperature). */
export const SWEEP_FLAGS = [T, LAMBDA, DKD_ALPHA, DKD_BETA, DIST_BETA, DIST_GAMMA].map((a) => a.flag);

export const SWEEP_METHODS: readonly Method[] = ['kd', 'takd', 'dgkd', 'dkd', 'dist'];

/** The pairs a method's sweep may vary, its default first. */
export function axisPairs(cfg: Pick<ExperimentConfig, 'method' | 'teacherLoss'>): AxisPair[] {
  if (cfg.method === 'dkd') return [DKD_PAIR];
  if (cfg.method === 'dist') return [DIST_PAIR];
  if (cfg.method === 'kd') return [KD_PAIR];
  return cfg.teacherLoss === 'dkd' ? [KD_PAIR, DKD_PAIR] : cfg.teacherLoss === 'dist' ? [KD_PAIR, DIST_PAIR] : [KD_PAIR];
}

export const gridLabel = (rows: AxisSpec, r: number, cols: AxisSpec, c: number) => `${rows.symbol}=${r} ${cols.symbol}=${c}`;
export const gridTag = (rows: AxisSpec, r: number, cols: AxisSpec, c: number) => `-${rows.tag}${r}-${cols.tag}${c}`;
