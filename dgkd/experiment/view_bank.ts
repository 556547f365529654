// A frozen teacher's logits for every view of a run's view bank ([train images × views × classes]), kept in a file
// so that every later run, process and queue worker training from the same teacher on the same data and bank
// reads them instead of spending minutes recomputing them. The file is a cache: one that does not hold what this
// teacher gives — the wrong size, a non-finite value, or logits for its first images that differ from the
// teacher's own (a file copied from another store, a bank of other data at the same path, zeros from a failed
// copy) — is computed again, never trained from.

import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Classifier } from '../models/index.ts';
import { subset, TAKD_NORMALISATION } from '../data/index.ts';
import type { Dataset } from '../data/dataset.ts';
import { bankLogitsOf } from '../fit/evaluate.ts';
import { writeFileAtomic } from '../fit/atomic.ts';

/** Images whose every view is recomputed to check a stored bank: a fraction of a second for any teacher here. */
export const BANK_PROBE_IMAGES = 16;
/** Allowed difference between a stored logit and the recomputed one (batch sizes differ, so kernels may too). */
const PROBE_TOLERANCE = 1e-3;

/** The bank's logits from `path` if it holds this teacher's, otherwise computed (and written there). */
export async function viewBankLogits(
  path: string,
  teacher: Classifier,
  train: Dataset,
  views: number,
  log: (line: string) => void,
  signal?: { stop: boolean },
): Promise<Float32Array> {
  const floats = train.size * views * teacher.numClasses;
  if (existsSync(path)) {
    const stored = await storedBank(path, floats, teacher, train, views);
    if (stored.logits) return stored.logits;
    log(`${path} ${stored.why}: computing it again`);
  }
  const t0 = Date.now();
  log(`logits for ${views} views of ${train.size} images (the view bank)…`);
  const logits = await bankLogitsOf(teacher, train, TAKD_NORMALISATION, views, 256, signal);
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic(path, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
  log(`view bank done in ${((Date.now() - t0) / 1000).toFixed(0)} s: ${path}`);
  return logits;
}

/** A stored bank's logits, or why they cannot be used. */
async function storedBank(
  path: string,
  floats: number,
  teacher: Classifier,
  train: Dataset,
  views: number,
): Promise<{ logits: Float32Array; why?: undefined } | { logits?: undefined; why: string }> {
  const bytes = readFileSync(path);
  if (bytes.byteLength !== floats * 4) return { why: `has ${bytes.byteLength} bytes, expected ${floats * 4}` };
  const logits = new Float32Array(bytes.buffer, bytes.byteOffset, floats).slice();
  const bad = logits.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) return { why: `holds a non-finite value (${logits[bad]} at float ${bad})` };
  const n = Math.min(BANK_PROBE_IMAGES, train.size);
  const probe = subset(train, Array.from({ length: n }, (_, i) => i), `${train.name}[bank probe]`);
  const fresh = await bankLogitsOf(teacher, probe, TAKD_NORMALISATION, views, n);
  let worst = 0;
  for (let i = 0; i < fresh.length; i++) worst = Math.max(worst, Math.abs(fresh[i] - logits[i]) / Math.max(1, Math.abs(fresh[i])));
  if (worst > PROBE_TOLERANCE) {
    return { why: `differs from the teacher's logits for its first ${n} images (largest difference ${worst.toPrecision(3)})` };
  }
  return { logits };
}
