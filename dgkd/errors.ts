// The one notion of bad input: a failure caused by what the user gave — a flag, a config file, a data file, a
// checkpoint, a path, the queue's URL — as opposed to a bug or the device. Every such error class extends
// BadInput; the command line exits 2 with its message (no stack trace), and queue workers never retry it.
// (No imports: the browser demo loads the models, whose registry throws one of these.)

/** The exit statuses of the command lines (main.ts, worker.ts) for a failure, besides 0 and a signal's 128 + n. */
export const EXIT = { unexpected: 1, badInput: 2, diverged: 3 } as const;

export class BadInput extends Error {
  /** The exit status of a command that stops on it. */
  readonly exitCode: number = EXIT.badInput;
}

/** How a failure with each exit status reads where it crosses the queue as text (a job's failure reason). */
const REASON_PREFIX: Record<number, string> = { [EXIT.badInput]: 'bad input: ', [EXIT.diverged]: 'diverged: ' };

/** A failure as the queue carries it: its message, prefixed by what its exit status means (worker.ts). */
export const failureReason = (exitCode: number, message: string): string => (REASON_PREFIX[exitCode] ?? '') + message;

/** The exit status a failure reason carries (coordinator.ts): bad input 2, a diverged loss 3, anything else 1. */
export function exitCodeOfReason(reason: string): number {
  const found = Object.entries(REASON_PREFIX).find(([, prefix]) => reason.startsWith(prefix));
  return found ? Number(found[0]) : EXIT.unexpected;
}
