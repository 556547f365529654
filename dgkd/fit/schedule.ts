// Learning-rate schedules, as pure functions of (epoch, step) so that a resumed run gets the same values.

export type ScheduleKind = 'step' | 'cosine' | 'constant';

export interface ScheduleConfig {
  kind: ScheduleKind;
  lr: number;
  epochs: number;
  /** step: multiply by `gamma` at these fractions of the epochs (default 0.5 and 0.75, the papers' recipe). */
  milestones?: number[];
  gamma?: number;
}

/** Learning rate for step `step` (of `stepsPerEpoch`) in epoch `epoch` (0-based). */
export function learningRate(cfg: ScheduleConfig, epoch: number, step: number, stepsPerEpoch: number): number {
  switch (cfg.kind) {
    case 'constant':
      return cfg.lr;
    case 'step': {
      const milestones = (cfg.milestones ?? [0.5, 0.75]).map((f) => Math.round(f * cfg.epochs));
      const passed = milestones.filter((m) => epoch >= m).length;
      return cfg.lr * (cfg.gamma ?? 0.1) ** passed;
    }
    case 'cosine': {
      const t = (epoch + step / Math.max(stepsPerEpoch, 1)) / cfg.epochs;
      return 0.5 * cfg.lr * (1 + Math.cos(Math.PI * Math.min(t, 1)));
    }
  }
}
