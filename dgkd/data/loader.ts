// Batching for training and evaluation: seeded per-epoch shuffling, optional augmentation (random crop with
// padding + horizontal flip), normalisation to float NHWC batches, exact resume, and prepare-ahead.
//
// Determinism and resume. One Rng drives everything. At the start of each epoch we remember its state, then
// draw the epoch's permutation (if shuffling) and one u32 "augmentation seed"; batch b of the epoch draws its
// crops/flips from a fresh Rng seeded by (augmentation seed, b). So a batch depends only on (state at epoch
// start, b), never on how far ahead we have prepared, and the resume state is tiny: the epoch, the position
// within it and the Rng state at the epoch's start (the permutation is regenerated, not stored).
//
// Prepare-ahead. After handing out a batch, the next one is prepared in a setImmediate callback, i.e. while
// the caller awaits GPU work; if the caller asks before that ran, it is prepared on the spot (same bytes
// either way). Batches live in three rotating buffers, so a returned batch (x, y, indices) stays valid until
// nextBatch() has been called two more times: you may keep the previous batch while using the current one.
// Copy anything you need to keep longer.

import { Rng, type RngState } from '../../engine/random.ts';
import { imageSize, type Dataset } from './dataset.ts';
import { bankView, drawCropFlip, pixelMap, TAKD_NORMALISATION, transformImage, type PadMode, type PixelMap } from './augment.ts';

export interface LoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (default true). */
  shuffle?: boolean;
  /** Random crop (with `pad` pixels of padding, default 4) and horizontal flip with p = 0.5 (default false). */
  augment?: boolean;
  pad?: number;
  /** Padded border: 'zero' = black pixels as torchvision does (default), 'mean' = 0 after normalising. */
  padMode?: PadMode;
  /** Per-channel normalisation in [0,1] pixel units; defaults to TAKD's CIFAR constants. */
  mean?: number[];
  std?: number[];
  seed?: number;
  /** Skip the last incomplete batch of each epoch (default false). */
  dropLast?: boolean;
  /** Prepare the next batch ahead in setImmediate (default true). */
  prefetch?: boolean;
  /**
   * A fixed bank of this many augmented views per image (augment.ts, bankView): with `augment`, each sample is
   * one of its views, drawn per epoch, and the batch's `rows` say which (image · views + view).
   */
  views?: number;
  /** Every sample at this view of the bank (no augmentation draw): for computing a teacher's logits over the bank. */
  fixedView?: number;
}

export interface Batch {
  x: Float32Array; // size × H × W × C, normalised, NHWC
  y: Int32Array; // size labels
  indices: Int32Array; // the dataset indices of the samples
  rows: Int32Array; // where cached teacher outputs are: the index, or index · views + view with a view bank
  size: number; // samples in this batch (< batchSize only for a final partial batch)
  epoch: number;
  index: number; // batch number within the epoch
}

/** JSON-serialisable loader position; see getState/setState. */
export interface LoaderState {
  version: 1;
  epoch: number;
  position: number; // next batch to hand out within `epoch`
  rng: RngState; // Rng state at the start of `epoch`
  datasetSize: number; // the rest guard against restoring into a differently configured loader
  batchSize: number;
  shuffle: boolean;
  dropLast: boolean;
  augment: boolean;
}

const SLOTS = 3;

export class DataLoader {
  readonly ds: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly augment: boolean;
  readonly dropLast: boolean;
  readonly pad: number;
  readonly batchesPerEpoch: number;
  readonly views: number;
  private readonly fixedView: number | null;
  private readonly map: PixelMap;
  private readonly prefetch: boolean;
  private readonly rng: Rng;
  private epochStart!: RngState;
  private perm!: Int32Array;
  private augSeed = 0;
  private _epoch = 0;
  private _position = 0;

  private readonly xs: Float32Array[] = [];
  private readonly ys: Int32Array[] = [];
  private readonly idx: Int32Array[] = [];
  private readonly rows: Int32Array[] = [];
  private slot = 0; // slot of the next batch to hand out
  private ready = false; // whether `slot` already holds batch (epoch, position)
  private generation = 0; // bumped whenever a scheduled prepare-ahead becomes stale
  private pending: ReturnType<typeof setImmediate> | null = null;

  constructor(ds: Dataset, opts: LoaderOptions) {
    const { batchSize } = opts;
    if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new Error(`batchSize ${batchSize}: expected an integer ≥ 1`);
    this.ds = ds;
    this.batchSize = batchSize;
    this.shuffle = opts.shuffle ?? true;
    this.augment = opts.augment ?? false;
    this.dropLast = opts.dropLast ?? false;
    this.prefetch = opts.prefetch ?? true;
    this.pad = opts.pad ?? 4;
    this.views = opts.views ?? 0;
    this.fixedView = opts.fixedView ?? null;
    if (!(Number.isInteger(this.views) && this.views >= 0)) throw new Error(`views ${this.views}: expected an integer ≥ 0`);
    if (this.fixedView !== null && !(Number.isInteger(this.fixedView) && this.fixedView >= 0 && this.fixedView < this.views)) {
      throw new Error(`fixedView ${this.fixedView}: expected a view of the bank, 0..${this.views - 1}`);
    }
    this.batchesPerEpoch = this.dropLast ? Math.floor(ds.size / batchSize) : Math.ceil(ds.size / batchSize);
    if (this.batchesPerEpoch === 0)
      throw new Error(`${ds.name}: ${ds.size} samples give no batch of ${batchSize}${this.dropLast ? ' with dropLast' : ''}`);
    this.map = pixelMap(
      { mean: opts.mean ?? TAKD_NORMALISATION.mean, std: opts.std ?? TAKD_NORMALISATION.std },
      ds.channels,
      opts.padMode ?? 'zero',
    );
    const per = imageSize(ds);
    for (let s = 0; s < SLOTS; s++) {
      this.xs.push(new Float32Array(batchSize * per));
      this.ys.push(new Int32Array(batchSize));
      this.idx.push(new Int32Array(batchSize));
      this.rows.push(new Int32Array(batchSize));
    }
    this.rng = new Rng(opts.seed ?? 0);
    this.startEpoch();
  }

  /** The epoch of the next batch (0-based). */
  get epoch(): number {
    return this._epoch;
  }

  /** The index within the epoch of the next batch. */
  get position(): number {
    return this._position;
  }

  /** The next batch; rolls over into the next epoch (reshuffled) after the last batch of an epoch. */
  nextBatch(): Batch {
    this.cancelPending();
    const slot = this.slot;
    if (!this.ready) this.prepare(slot);
    const size = this.batchLength(this._position);
    const batch: Batch = {
      x: this.xs[slot].subarray(0, size * imageSize(this.ds)),
      y: this.ys[slot].subarray(0, size),
      indices: this.idx[slot].subarray(0, size),
      rows: this.rows[slot].subarray(0, size),
      size,
      epoch: this._epoch,
      index: this._position,
    };
    this._position++;
    if (this._position === this.batchesPerEpoch) {
      this._epoch++;
      this._position = 0;
      this.startEpoch();
    }
    this.slot = (slot + 1) % SLOTS;
    this.ready = false;
    if (this.prefetch) this.schedule();
    return batch;
  }

  /** Iterates over the rest of the current epoch; afterwards the loader stands at the start of the next one. */
  *batches(): Generator<Batch> {
    const epoch = this._epoch;
    while (this._epoch === epoch) yield this.nextBatch();
  }

  getState(): LoaderState {
    return {
      version: 1,
      epoch: this._epoch,
      position: this._position,
      rng: [...this.epochStart] as RngState,
      datasetSize: this.ds.size,
      batchSize: this.batchSize,
      shuffle: this.shuffle,
      dropLast: this.dropLast,
      augment: this.augment,
    };
  }

  /** Restores a getState() result: the following batches are byte-identical to the uninterrupted run's. */
  setState(s: LoaderState): void {
    if (s.version !== 1) throw new Error(`loader state version ${s.version}, expected 1`);
    const mine = this.getState();
    for (const k of ['datasetSize', 'batchSize', 'shuffle', 'dropLast', 'augment'] as const) {
      if (s[k] !== mine[k]) throw new Error(`loader state has ${k} = ${s[k]}, but this loader has ${mine[k]}`);
    }
    if (!(Number.isInteger(s.epoch) && s.epoch >= 0)) throw new Error(`loader state epoch ${s.epoch}, expected an integer ≥ 0`);
    if (!(Array.isArray(s.rng) && s.rng.length === 4)) throw new Error('loader state rng must be 4 u32 words');
    if (!(Number.isInteger(s.position) && s.position >= 0 && s.position < this.batchesPerEpoch))
      throw new Error(`loader state position ${s.position}, expected 0..${this.batchesPerEpoch - 1}`);
    this.cancelPending();
    this.rng.setState(s.rng);
    this._epoch = s.epoch;
    this._position = s.position;
    this.startEpoch();
    this.ready = false;
  }

  /** Stops any scheduled prepare-ahead (call when abandoning the loader mid-epoch, e.g. in tests). */
  close(): void {
    this.cancelPending();
  }

  private batchLength(position: number): number {
    return Math.min(this.batchSize, this.ds.size - position * this.batchSize);
  }

  private startEpoch(): void {
    this.epochStart = this.rng.getState();
    const perm = new Int32Array(this.ds.size);
    for (let i = 0; i < perm.length; i++) perm[i] = i;
    if (this.shuffle) this.rng.shuffle(perm);
    this.perm = perm;
    this.augSeed = this.rng.nextU32();
  }

  /** Fills `slot` with batch (epoch, position). */
  private prepare(slot: number): void {
    const { ds } = this;
    const per = imageSize(ds);
    const start = this._position * this.batchSize;
    const size = this.batchLength(this._position);
    const x = this.xs[slot], y = this.ys[slot], idx = this.idx[slot], rows = this.rows[slot];
    // Mixing the batch number into the seed with an odd multiplier keeps seeds distinct within an epoch.
    const aug = this.augment && this.fixedView === null ? new Rng((this.augSeed ^ Math.imul(this._position + 1, 0x9e3779b1)) >>> 0) : null;
    const V = this.views;
    for (let k = 0; k < size; k++) {
      const i = this.perm[start + k];
      idx[k] = i;
      y[k] = ds.labels[i];
      let cf = null;
      rows[k] = i;
      if (this.fixedView !== null || (aug && V > 0)) {
        const v = this.fixedView ?? aug!.int(V);
        cf = bankView(i, v, this.pad);
        rows[k] = i * V + v;
      } else if (aug) {
        cf = drawCropFlip(aug, this.pad);
      }
      transformImage(ds.images, i * per, ds.height, ds.width, ds.channels, x, k * per, this.map, cf, this.pad);
    }
    this.ready = true;
  }

  private schedule(): void {
    const gen = ++this.generation;
    this.pending = setImmediate(() => {
      this.pending = null;
      if (gen === this.generation && !this.ready) this.prepare(this.slot);
    });
    // Never keep the process alive just to prepare a batch nobody may ask for.
    this.pending.unref();
  }

  private cancelPending(): void {
    this.generation++;
    if (this.pending) clearImmediate(this.pending);
    this.pending = null;
  }
}
