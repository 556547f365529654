// --download: fetch CIFAR-10, CIFAR-100 (binary versions) or SVHN from their publishers, check the published MD5
// of every file, and put the dataset into --data-dir in one rename, so a later run never sees half a dataset.
//
//   <data-dir>/.download/<file>.part   bytes so far (an interrupted transfer resumes here with an HTTP Range)
//   <data-dir>/.download/<file>        complete and verified
//   <data-dir>/.download/unpack-<pid>/ the archive extracted, then renamed to <data-dir>/<folder>
//
// A checksum mismatch deletes the file it concerns; nothing reaches <data-dir>/<folder> unverified. Mirrors (and
// the tests) can replace the sources with a JSON file named by DGKD_DOWNLOAD_SOURCES: {"cifar10": [{url, md5,
// bytes?}], …}.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { basename, dirname, join, normalize } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BadInput } from '../errors.ts';

export class DownloadError extends BadInput {
  override name = 'DownloadError';
}

export interface SourceFile {
  url: string;
  md5: string;
  /** Size as published, when known: reported in progress, and a size mismatch fails before hashing. */
  bytes?: number;
}

export interface DatasetSource {
  /** The folder the files end up in, inside --data-dir (the loaders look there). */
  folder: string;
  /** Files that a complete copy has in `folder`. */
  expect: string[];
  files: SourceFile[];
  /** 'tar.gz': each file is an archive whose top folder is `folder`; 'plain': files are copied into `folder`. */
  kind: 'tar.gz' | 'plain';
}

/** The publishers' locations and MD5s (as listed on https://www.cs.toronto.edu/~kriz/cifar.html and the SVHN page). */
export const OFFICIAL_SOURCES: Record<string, DatasetSource> = {
  cifar10: {
    folder: 'cifar-10-batches-bin',
    expect: ['data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin'],
    files: [{ url: 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz', md5: 'c32a1d4ab5d03f1284b67883e8d87530', bytes: 170_052_171 }],
    kind: 'tar.gz',
  },
  cifar100: {
    folder: 'cifar-100-binary',
    expect: ['train.bin', 'test.bin'],
    files: [{ url: 'https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz', md5: '03b5dce01913d631647c71ecec9e9cb8', bytes: 168_513_733 }],
    kind: 'tar.gz',
  },
  svhn: {
    folder: 'svhn',
    expect: ['train_32x32.mat', 'test_32x32.mat'],
    files: [
      { url: 'http://ufldl.stanford.edu/housenumbers/train_32x32.mat', md5: 'e26dedcc434d2e4c54c9b2d4a06d8373', bytes: 182_040_794 },
      { url: 'http://ufldl.stanford.edu/housenumbers/test_32x32.mat', md5: 'eb5a983be6a315427106f1b164d9cef3', bytes: 64_275_384 },
    ],
    kind: 'plain',
  },
};

function sources(): Record<string, DatasetSource> {
  const path = process.env.DGKD_DOWNLOAD_SOURCES;
  if (!path) return OFFICIAL_SOURCES;
  let custom: Record<string, { files?: SourceFile[] }>;
  try {
    custom = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new DownloadError(`DGKD_DOWNLOAD_SOURCES: ${path} is not a readable JSON file (${(e as Error).message})`);
  }
  const out: Record<string, DatasetSource> = {};
  for (const [name, official] of Object.entries(OFFICIAL_SOURCES)) {
    const files = custom[name]?.files;
    const valid = Array.isArray(files) && files.every((f) => typeof f?.url === 'string' && /^[0-9a-f]{32}$/.test(String(f?.md5)));
    if (custom[name] && !valid) throw new DownloadError(`DGKD_DOWNLOAD_SOURCES: ${path}: '${name}' needs files: [{url, md5 (32 hex digits)}]`);
    out[name] = valid ? { ...official, files: files! } : official;
  }
  return out;
}

const present = (dir: string, src: DatasetSource) => src.expect.every((f) => existsSync(join(dir, f)));

/** Fetches `dataset` into `dataDir` unless a complete copy is there already (in it or in its folder). */
export async function downloadDataset(dataset: string, dataDir: string | undefined, log = (s: string) => console.error(s)): Promise<void> {
  if (dataset === 'synthetic') {
    log('--download: the synthetic dataset is built in; nothing to download');
    return;
  }
  const src = sources()[dataset];
  if (!src) throw new DownloadError(`--download: ${dataset} is not offered for download (${Object.keys(OFFICIAL_SOURCES).join(', ')} are); put its files in --data-dir`);
  if (!dataDir) throw new DownloadError(`--download: dataset '${dataset}' needs --data-dir, the folder to download into`);
  const target = join(dataDir, src.folder);
  if (present(dataDir, src) || present(target, src)) {
    log(`--download: ${dataset} is already in ${present(dataDir, src) ? dataDir : target}`);
    return;
  }
  if (existsSync(target)) {
    throw new DownloadError(
      `--download: ${target} exists but lacks ${src.expect.filter((f) => !existsSync(join(target, f))).join(', ')}; ` +
        `move it away to download ${dataset} again`,
    );
  }
  if (existsSync(dataDir) && !statSync(dataDir).isDirectory()) throw new DownloadError(`--data-dir: ${dataDir} is not a folder`);
  const work = join(dataDir, '.download');
  mkdirSync(work, { recursive: true });
  const verified: string[] = [];
  for (const f of src.files) verified.push(await fetchVerified(f, work, log));

  const unpack = join(work, `unpack-${process.pid}`);
  rmSync(unpack, { recursive: true, force: true });
  mkdirSync(unpack);
  try {
    if (src.kind === 'tar.gz') {
      for (const archive of verified) extractTarGz(archive, unpack);
    } else {
      mkdirSync(join(unpack, src.folder));
      for (const file of verified) renameSync(file, join(unpack, src.folder, basename(file)));
    }
    const unpacked = join(unpack, src.folder);
    const missing = src.expect.filter((f) => !existsSync(join(unpacked, f)));
    if (missing.length) throw new DownloadError(`--download: the ${dataset} files verified but hold no ${src.folder}/${missing.join(', ')}`);
    syncTree(unpacked);
    renameSync(unpacked, target); // the dataset appears complete, or not at all
  } finally {
    rmSync(unpack, { recursive: true, force: true });
  }
  rmSync(work, { recursive: true, force: true });
  log(`--download: ${dataset} is in ${target}`);
}

/** Downloads one file into `work`, resuming a `.part` from an earlier try; returns the path once its MD5 matches. */
async function fetchVerified(f: SourceFile, work: string, log: (s: string) => void): Promise<string> {
  const name = basename(new URL(f.url).pathname) || 'download';
  const done = join(work, name);
  const part = `${done}.part`;
  if (existsSync(done) && (await md5Of(done)) === f.md5) return done;
  rmSync(done, { force: true });
  let have = existsSync(part) ? statSync(part).size : 0;
  if (f.bytes !== undefined && have > f.bytes) {
    rmSync(part);
    have = 0;
  }
  if (f.bytes === undefined || have < f.bytes) {
    let res: Response;
    try {
      res = await fetch(f.url, { headers: have ? { Range: `bytes=${have}-` } : {} });
    } catch (e) {
      throw new DownloadError(`--download: ${f.url}: ${describeNetworkError(e)}`);
    }
    if (res.status === 416 && have) {
      // The server has nothing past what we hold: the .part may be complete (checked below).
    } else if (!res.ok || !res.body) {
      throw new DownloadError(`--download: ${f.url}: the server answered ${res.status} ${res.statusText}`);
    } else {
      const resumed = res.status === 206;
      if (have && !resumed) have = 0; // the server ignored the Range: start again
      const total = f.bytes ?? (Number(res.headers.get('content-length')) || 0) + have;
      log(`--download: ${f.url} (${mib(total)})${resumed ? `, resuming at ${mib(have)}` : ''}`);
      const fd = openSync(part, resumed ? 'a' : 'w');
      let got = have;
      let lastReport = Date.now();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          writeSync(fd, chunk);
          got += chunk.length;
          if (Date.now() - lastReport > 5000) {
            log(`  ${mib(got)} of ${mib(total)}`);
            lastReport = Date.now();
          }
        }
        fsyncSync(fd);
      } catch (e) {
        throw new DownloadError(
          `--download: ${f.url}: the transfer broke off after ${mib(got)} (${describeNetworkError(e)}); ` +
            `run the same command again to resume from ${part}`,
        );
      } finally {
        closeSync(fd);
      }
    }
  }
  const size = existsSync(part) ? statSync(part).size : 0;
  if (f.bytes !== undefined && size !== f.bytes) {
    if (size > f.bytes) rmSync(part, { force: true });
    throw new DownloadError(
      `--download: ${f.url}: got ${size.toLocaleString('en-US')} bytes, expected ${f.bytes.toLocaleString('en-US')}` +
        (size < f.bytes ? `; run the same command again to resume from ${part}` : '; the file was removed'),
    );
  }
  const md5 = await md5Of(part);
  if (md5 !== f.md5) {
    rmSync(part, { force: true });
    throw new DownloadError(`--download: ${f.url}: checksum mismatch (MD5 ${md5}, published ${f.md5}); the file was removed, nothing was installed`);
  }
  renameSync(part, done);
  return done;
}

const mib = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;

function describeNetworkError(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  return err.cause?.code ?? err.cause?.message ?? err.message ?? String(e);
}

function md5Of(path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('md5');
    createReadStream(path)
      .on('data', (c) => h.update(c))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

/**
 * Extracts a gzipped ustar archive's regular files under `into`. Names that would leave `into` (absolute, or
 * with '..') and anything but files and folders are refused or skipped: an archive is data, not instructions.
 */
export function extractTarGz(archive: string, into: string): void {
  let tar: Buffer;
  try {
    tar = gunzipSync(readFileSync(archive));
  } catch (e) {
    throw new DownloadError(`--download: ${archive} is not a gzip archive (${(e as Error).message})`);
  }
  const field = (b: Buffer, at: number, len: number) => b.subarray(at, at + len).toString('utf8').replace(/\0.*$/s, '');
  for (let off = 0; off + 512 <= tar.length; ) {
    const header = tar.subarray(off, off + 512);
    if (header.every((x) => x === 0)) break; // end of archive
    const prefix = field(header, 345, 155);
    const name = (prefix ? `${prefix}/` : '') + field(header, 0, 100);
    const size = parseInt(field(header, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(header[156] || 48);
    if (!Number.isFinite(size) || size < 0 || off + 512 + size > tar.length) throw new DownloadError(`--download: ${archive}: damaged tar entry '${name}'`);
    const rel = normalize(name);
    if (rel.startsWith('..') || rel.startsWith('/')) throw new DownloadError(`--download: ${archive}: entry '${name}' would be written outside the folder`);
    if (type === '0' || type === '\0') {
      const path = join(into, rel);
      mkdirSync(dirname(path), { recursive: true });
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, tar.subarray(off + 512, off + 512 + size));
      } catch (e) {
        (e as { path?: string }).path ??= path; // a full disk: name the file (a write on an open file carries no path)
        throw e;
      } finally {
        closeSync(fd);
      }
    } else if (type === '5') {
      mkdirSync(join(into, rel), { recursive: true });
    }
    off += 512 + Math.ceil(size / 512) * 512;
  }
}

/** fsync every file of a folder, so the rename that publishes it never exposes unwritten data after a crash. */
function syncTree(dir: string): void {
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) syncTree(p);
    else {
      const fd = openSync(p, 'r');
      fsyncSync(fd);
      closeSync(fd);
    }
  }
}
