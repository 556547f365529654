// The one notion of bad input: a failure caused by what the user gave — a flag, a config file, a data file, a
// checkpoint, a path, the queue's URL — as opposed to a bug or the device. Every such error class extends
// BadInput; the command line exits 2 with its message (no stack trace), and queue workers never retry it.
// (No imports: the browser demo loads the models, whose registry throws one of these.)

export class BadInput extends Error {
  /** The exit status of a command that stops on it. */
  readonly exitCode = 2;
}
