// Which failures are the user's input — a flag, a config file, a data file, a checkpoint, a path, the queue's URL —
// as opposed to a bug or the device: those exit 2 from the command line and are not retried by queue workers.

import { UsageError } from './options.ts';
import { DataError } from './data/dataset.ts';
import { DownloadError } from './data/download.ts';
import { CheckpointError } from './train/checkpoint.ts';
import { UnknownArchitectureError } from './models/index.ts';
import { AttentionMatchError } from './methods/attention_pairs.ts';
import { RunStateError } from './run_folder.ts';
import { QueueError } from './queue/connection.ts';
import { describeFsError } from './fs_errors.ts';

const BAD_INPUT = [UsageError, DataError, DownloadError, CheckpointError, UnknownArchitectureError, AttentionMatchError, RunStateError, QueueError];

/** The message to show for a bad-input failure, or null when `e` is something else. */
export function badInputMessage(e: unknown): string | null {
  if (BAD_INPUT.some((k) => e instanceof k)) return (e as Error).message;
  return describeFsError(e);
}
