// Which failures are the user's input (errors.ts: every class that extends BadInput) — plus file-system failures
// on a path the user named, explained by fs_errors.ts — as opposed to a bug or the device: those exit 2 from the
// command line and are not retried by queue workers.

import { BadInput } from './errors.ts';
import { describeFsError } from './fs_errors.ts';

/** The message to show for a bad-input failure, or null when `e` is something else. */
export function badInputMessage(e: unknown): string | null {
  if (e instanceof BadInput) return e.message;
  return describeFsError(e);
}
