// Which code trains a stage. Stage keys name what decides a result but not the trainer's code, so on a cluster
// where one host was updated and another not, two workers would give one key two meanings. The coordinator sends
// the hash of its training sources with every job; a worker whose sources differ refuses the stage.

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The folders whose files decide what training does (the CLI's help text and the docs do not). */
const SOURCES = ['engine', 'shaders', 'dgkd'];
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : /\.(ts|wgsl)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

let cached: string | undefined;

/** 16 hex digits of a sha256 over every .ts and .wgsl file under engine/, shaders/ and dgkd/ (paths and bytes). */
export function codeId(base = root): string {
  if (base === root && cached) return cached;
  const h = createHash('sha256');
  for (const f of SOURCES.flatMap((d) => files(join(base, d))).map((f) => relative(base, f)).sort()) {
    h.update(`${f}\0`);
    h.update(readFileSync(join(base, f)));
    h.update('\0');
  }
  const id = h.digest('hex').slice(0, 16);
  if (base === root) cached = id;
  return id;
}
