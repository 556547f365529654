// Watching the loss without waiting for it: each step's loss and correct count are queued for readback
// (Runtime.readLater) and read one step later, so the GPU always has a step queued. Each value read is checked:
// a non-finite loss, or a finite one that ran away (DIVERGENCE_FACTOR × the first steps' largest), stops the
// run with the exact step named.

import type { PendingRead } from '../../engine/runtime/index.ts';
import { EXIT } from '../errors.ts';

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  /** The exit status of a command that stops on it (3), in one process or through the queue. */
  readonly exitCode: number = EXIT.diverged;
}

/**
 * A finite loss that has run away: this many times the largest loss of the run's first steps (or of 1, if
 * those were smaller). Far beyond anything a converging run reaches (CE starts at ln C), and reached within a
 * few steps by a diverging one, whose loss grows geometrically.
 */
export const DIVERGENCE_FACTOR = 1e4;
const REFERENCE_STEPS = 10;

/** A finite loss that ran away; a NonFiniteLossError for the exit code (3), since it will be one a few steps on. */
export class DivergedLossError extends NonFiniteLossError {
  override name = 'DivergedLossError';
}

/** An epoch's running sums (kept in a checkpoint taken mid-epoch, so its metrics equal an uninterrupted run's). */
export type Sums = { lossSum: number; correctSum: number; seen: number };
/** The divergence check's yardstick: the largest loss of the first steps (kept in checkpoints for resume). */
export type LossReference = { value: number; steps: number };

export class LossWatch {
  private inFlight: { read: PendingRead; step: number; size: number }[] = [];
  lastLoss = NaN;

  constructor(
    public sums: Sums,
    public reference: LossReference,
    /** Where a bad value came from: the stage, "at epoch E, step S", and the last good checkpoint. */
    private where: { stage: string; at: (step: number) => string; lastGood: () => string },
  ) {}

  push(read: PendingRead, step: number, size: number): void {
    this.inFlight.push({ read, step, size });
  }

  /** Reads queued values until at most `keep` remain in flight, checking each. */
  async drain(keep: number): Promise<void> {
    while (this.inFlight.length > keep) {
      const f = this.inFlight.shift()!;
      const [loss, correct] = new Float32Array(await f.read.wait());
      const { stage, at, lastGood } = this.where;
      if (!Number.isFinite(loss)) throw new NonFiniteLossError(`[${stage}] non-finite loss (${loss}) ${at(f.step)}; ${lastGood()}`);
      const ref = this.reference;
      if (ref.steps < REFERENCE_STEPS) {
        ref.value = Math.max(ref.value, loss);
        ref.steps++;
      } else if (loss > DIVERGENCE_FACTOR * Math.max(ref.value, 1)) {
        throw new DivergedLossError(
          `[${stage}] the loss diverged: ${loss.toPrecision(3)} ${at(f.step)}, over ${DIVERGENCE_FACTOR}× the first steps' ` +
            `${ref.value.toPrecision(3)} (lower the learning rate or the loss weights); ${lastGood()}`,
        );
      }
      this.sums.lossSum += loss * f.size;
      this.sums.correctSum += correct;
      this.sums.seen += f.size;
      this.lastLoss = loss;
    }
  }
}
