// Progress output: a live bar on a terminal, plain lines every few seconds otherwise (CI logs, pipes). Within a
// pipeline each line also says which stage of how many and which seed is training, and the ETA of the whole run:
// the stages' relative costs (epochs × images × a size factor) against the rate measured on the stages trained
// so far in this process.

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

  // The pipeline: cost units of the stages to train, of those trained so far and the time they took, and the
  // stage now training (its cost and start).
  private pipe: { total: number; stages: number; index: number; seed: number; cost: number; trainedCost: number; trainedSeconds: number; stageStart: number } | null = null;
  private stageFraction = 0;

  startPipeline(totalCost: number, stages: number): void {
    this.pipe = { total: totalCost, stages, index: 0, seed: 0, cost: 0, trainedCost: 0, trainedSeconds: 0, stageStart: 0 };
  }

  beginStage(name: string, cost: number, seed: number): void {
    if (!this.pipe) return;
    Object.assign(this.pipe, { index: this.pipe.index + 1, seed, cost, stageStart: Date.now() });
    this.stageFraction = 0;
    const eta = this.overallEta();
    this.log(`— stage ${this.pipe.index}/${this.pipe.stages} (seed ${seed}): ${name}${eta ? `, whole run ETA ${eta}` : ''}`);
  }

  endStage(reused: boolean): void {
    if (!this.pipe) return;
    const p = this.pipe;
    if (reused) {
      p.total -= p.cost; // a reused stage costs nothing
    } else {
      p.trainedCost += p.cost;
      p.trainedSeconds += (Date.now() - p.stageStart) / 1000;
    }
    p.cost = 0;
    p.stageStart = 0;
  }

  /** Time left for the whole pipeline, from the rate of the stages trained so far (and of this one). */
  private overallEta(): string {
    const p = this.pipe;
    if (!p) return '';
    const cost = p.trainedCost + p.cost * this.stageFraction;
    const seconds = p.trainedSeconds + (p.stageStart ? (Date.now() - p.stageStart) / 1000 : 0);
    if (cost <= 0 || seconds < 10) return ''; // the first seconds are mostly shader compiles
    const left = p.total - cost;
    return formatTime((left * seconds) / cost);
  }

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
    this.stageFraction = total ? done / total : 0;
    const where = this.pipe ? `stage ${this.pipe.index}/${this.pipe.stages} seed ${this.pipe.seed} · ` : '';
    const runEta = this.overallEta();
    const all = runEta ? ` · run ETA ${runEta}` : '';
    const text = `${where}${p.stage} epoch ${p.epoch + 1}/${p.epochs} step ${p.step}/${p.steps} ${stats} ETA ${eta}${all}`;
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
