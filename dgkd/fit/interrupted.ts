// A run stopped by a signal after saving what it could (SIGHUP/SIGINT/SIGTERM set `signal.stop`; the command
// exits 129/130/143). Its own file so that evaluation (evaluate.ts) can stop too without importing the trainer.

export class Interrupted extends Error {
  override name = 'Interrupted';
}
