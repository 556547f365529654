// Progress output: a live bar on a terminal, plain lines every few seconds otherwise (CI logs, pipes).

export interface ProgressInfo {
  stage: string;
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  /** NaN until the first step's loss has been read back (reads lag one step behind; a real NaN stops training). */
  loss: number;
  acc: number;
  imagesPerSec: number;
}

export class Progress {
  private lastLine = 0;
  private readonly tty = Boolean(process.stderr.isTTY);
  constructor(
    private quiet = false,
    private intervalMs = 10_000,
  ) {}

  private stageKey = '';
  private t0 = 0;
  private done0 = 0;

  update(p: ProgressInfo, force = false): void {
    if (this.quiet) return;
    const done = p.epoch * p.steps + p.step;
    const total = p.epochs * p.steps;
    if (this.stageKey !== p.stage) {
      this.stageKey = p.stage;
      this.t0 = Date.now();
      this.done0 = done;
    }
    const rate = (done - this.done0) / Math.max((Date.now() - this.t0) / 1000, 1e-3); // steps per second
    const eta = done > this.done0 ? formatTime((total - done) / rate) : '?';
    const stats = Number.isNaN(p.loss)
      ? 'loss – acc –'
      : `loss ${fmt(p.loss)} acc ${fmt(p.acc * 100, 1)}% ${fmt(p.imagesPerSec, 0)} img/s`;
    const text = `${p.stage} epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps} ${stats} ETA ${eta}`;
    if (this.tty) {
      const width = 20;
      const filled = Math.round((width * p.step) / Math.max(p.steps, 1));
      process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (force) process.stderr.write('\n');
    } else if (force || Date.now() - this.lastLine > this.intervalMs) {
      process.stderr.write(text + '\n');
      this.lastLine = Date.now();
    }
  }

  log(line: string): void {
    if (this.quiet) return;
    if (this.tty) process.stderr.write('\r\x1b[K');
    process.stderr.write(line + '\n');
  }
}

function fmt(v: number, digits = 3): string {
  return Number.isFinite(v) ? v.toFixed(digits) : String(v);
}

export function formatTime(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.round(seconds);
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}
