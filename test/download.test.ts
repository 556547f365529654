// --download through the real command line, against a local HTTP server on the loopback address serving small
// archives in the publishers' formats (no internet in tests): verified, extracted in one rename, resumed after a
// broken transfer, restarted when the server ignores Range, and never half-installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { svhnMat } from './data/helpers.ts';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'dgkd-download-'));

/** A ustar archive of `files` (paths → contents), gzipped. */
function tarGz(files: Record<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const h = Buffer.alloc(512);
    h.write(name, 0, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148); // checksum field counts as spaces while summing
    h.write('0', 156);
    h.write('ustar\0', 257);
    h.write('00', 263);
    const sum = h.reduce((a, b) => a + b, 0);
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(h, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** CIFAR-10 binary records: label byte + 3072 pixels, `n` per file, labels cycling through the classes. */
const cifarBatch = (n: number, seed: number) =>
  Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.concat([Buffer.from([i % 10]), Buffer.alloc(3072, (i * 37 + seed) % 256)])));
const files: Record<string, Buffer> = {};
for (let i = 1; i <= 5; i++) files[`cifar-10-batches-bin/data_batch_${i}.bin`] = cifarBatch(20, i);
files['cifar-10-batches-bin/test_batch.bin'] = cifarBatch(20, 9);
files['cifar-10-batches-bin/batches.meta.txt'] = Buffer.from('airplane\nautomobile\nbird\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n');
const archive = tarGz(files);
const svhn: Record<string, Buffer> = {
  '/svhn/train_32x32.mat': svhnMat(Array.from({ length: 30 }, (_, i) => (i % 10) + 1), true),
  '/svhn/test_32x32.mat': svhnMat(Array.from({ length: 20 }, (_, i) => (i % 10) + 1), false),
};
const evil = tarGz({ '../evil.txt': Buffer.from('outside'), 'cifar-10-batches-bin/test_batch.bin': cifarBatch(2, 0) });
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

const requests: { url: string; range?: string }[] = [];
let server: Server;
let base = '';
let deadUrl = ''; // a loopback port nothing listens on
beforeAll(async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const probeAddr = probe.address();
  deadUrl = `http://127.0.0.1:${typeof probeAddr === 'object' && probeAddr ? probeAddr.port : 0}/cifar-10-binary.tar.gz`;
  await new Promise<void>((r) => probe.close(() => r()));
  server = createServer((req, res) => {
    requests.push({ url: req.url ?? '', range: req.headers.range });
    const name = req.url ?? '';
    if (name.endsWith('/missing.tar.gz')) {
      res.writeHead(404).end('not here');
      return;
    }
    if (name === '/evil.tar.gz') {
      res.writeHead(200, { 'content-length': evil.length }).end(evil);
      return;
    }
    if (svhn[name]) {
      res.writeHead(200, { 'content-length': svhn[name].length }).end(svhn[name]);
      return;
    }
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (name.startsWith('/broken/')) {
      // Promise the whole archive, send half, hang up.
      res.writeHead(200, { 'content-length': archive.length });
      res.write(archive.subarray(0, archive.length >> 1), () => res.destroy());
      return;
    }
    if (range && !name.startsWith('/norange/')) {
      const from = Number(range[1]);
      res.writeHead(206, { 'content-length': archive.length - from, 'content-range': `bytes ${from}-${archive.length - 1}/${archive.length}` });
      res.end(archive.subarray(from));
      return;
    }
    res.writeHead(200, { 'content-length': archive.length }).end(archive);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

/** A sources file pointing cifar10 at `path` on the test server (or at any URL). */
function sources(name: string, url: string, sum = md5(archive)): string {
  const p = join(work, `${name}.json`);
  writeFileSync(p, JSON.stringify({ cifar10: { files: [{ url, md5: sum }] } }));
  return p;
}

/** The CLI in a child process (asynchronously: the server answers from this process). */
function cli(args: string[], sourcesFile: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'dgkd/train.ts', ...args], {
      cwd: root,
      env: { ...process.env, DGKD_DOWNLOAD_SOURCES: sourcesFile, DGKD_QUIET: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

const train = (dataDir: string) => [
  '--preset', 'paper', '--dataset', 'cifar10', '--data-dir', dataDir, '--download', '--method', 'ce', '--student', 'plain2',
  '--epochs', '1', '--batch-size', '10', '--lr', '0.01', '--out', join(work, 'runs'), '--name', `n${Math.random().toString(36).slice(2)}`, '--quiet',
];
const noStack = (s: string) => expect(s).not.toMatch(/\n\s+at .*\.ts:\d+/);

describe('--download', () => {
  it('fetches, verifies, extracts into --data-dir/cifar-10-batches-bin and trains on it; a second run fetches nothing', async () => {
    const dir = join(work, 'ok');
    const r = await cli(train(dir), sources('ok', `${base}/cifar-10-binary.tar.gz`));
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'cifar-10-batches-bin')).sort()).toEqual(['batches.meta.txt', 'data_batch_1.bin', 'data_batch_2.bin', 'data_batch_3.bin', 'data_batch_4.bin', 'data_batch_5.bin', 'test_batch.bin']);
    expect(existsSync(join(dir, '.download'))).toBe(false);
    const again = await cli(train(dir), sources('dead', deadUrl));
    expect(again.status, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/--download: cifar10 is already in .*ok\/cifar-10-batches-bin/);
  });

  it('SVHN: both .mat files verified, then placed in --data-dir/svhn together', async () => {
    const dir = join(work, 'svhn');
    const list = join(work, 'svhn-sources.json');
    writeFileSync(list, JSON.stringify({ svhn: { files: Object.entries(svhn).map(([p, b]) => ({ url: `${base}${p}`, md5: md5(b) })) } }));
    const args = train(dir).map((a) => (a === 'cifar10' ? 'svhn' : a));
    const r = await cli(args, list);
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'svhn')).sort()).toEqual(['test_32x32.mat', 'train_32x32.mat']);
  });

  it('a checksum mismatch installs nothing and removes the bad file', async () => {
    const dir = join(work, 'mismatch');
    const r = await cli(train(dir), sources('bad-md5', `${base}/cifar-10-binary.tar.gz`, '0'.repeat(32)));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/cifar-10-binary\.tar\.gz: checksum mismatch \(MD5 [0-9a-f]{32}, published 0{32}\); the file was removed, nothing was installed/);
    noStack(r.stderr);
    expect(existsSync(join(dir, 'cifar-10-batches-bin'))).toBe(false);
    expect(readdirSync(join(dir, '.download'))).toEqual([]);
  });

  it('a transfer that breaks off keeps its bytes; the next run resumes with a Range request', async () => {
    const dir = join(work, 'resume');
    const broken = await cli(train(dir), sources('broken', `${base}/broken/cifar-10-binary.tar.gz`));
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/the transfer broke off after .*; run the same command again to resume from .*cifar-10-binary\.tar\.gz\.part/);
    noStack(broken.stderr);
    expect(existsSync(join(dir, 'cifar-10-batches-bin'))).toBe(false);
    const half = archive.length >> 1;
    const resumed = await cli(train(dir), sources('whole', `${base}/cifar-10-binary.tar.gz`));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toMatch(/resuming at/);
    expect(requests.at(-1)).toEqual({ url: '/cifar-10-binary.tar.gz', range: `bytes=${half}-` });
    expect(existsSync(join(dir, 'cifar-10-batches-bin', 'test_batch.bin'))).toBe(true);
  });

  it('a server that ignores Range: the download starts again from zero and still verifies', async () => {
    const dir = join(work, 'norange');
    await cli(train(dir), sources('broken2', `${base}/broken/cifar-10-binary.tar.gz`));
    const r = await cli(train(dir), sources('norange', `${base}/norange/cifar-10-binary.tar.gz`));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/resuming at/);
    expect(existsSync(join(dir, 'cifar-10-batches-bin', 'data_batch_5.bin'))).toBe(true);
  });

  it('HTTP errors, unreachable servers and incomplete folders exit 2 with the URL or folder named', async () => {
    const missing = await cli(train(join(work, 'e404')), sources('e404', `${base}/missing.tar.gz`));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--download: http:\/\/127\.0\.0\.1:\d+\/missing\.tar\.gz: the server answered 404/);
    const dead = await cli(train(join(work, 'dead')), sources('dead2', deadUrl));
    expect(dead.status).toBe(2);
    expect(dead.stderr).toMatch(/--download: http:\/\/127\.0\.0\.1:\d+\/cifar-10-binary\.tar\.gz: ECONNREFUSED/);
    const partial = join(work, 'partial');
    mkdirSync(join(partial, 'cifar-10-batches-bin'), { recursive: true });
    writeFileSync(join(partial, 'cifar-10-batches-bin', 'data_batch_1.bin'), cifarBatch(2, 0));
    const r = await cli(train(partial), sources('ok2', `${base}/cifar-10-binary.tar.gz`));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/partial\/cifar-10-batches-bin exists but lacks data_batch_2\.bin, .*test_batch\.bin; move it away/);
    for (const x of [missing, dead, r]) noStack(x.stderr);
  });

  it('an archive entry that would land outside the folder stops the download; nothing is written outside', async () => {
    const dir = join(work, 'evil', 'data');
    const r = await cli(train(dir), sources('evil', `${base}/evil.tar.gz`, md5(evil)));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/evil\.tar\.gz: entry '\.\.\/evil\.txt' would be written outside the folder/);
    expect(existsSync(join(work, 'evil', 'evil.txt'))).toBe(false);
    expect(existsSync(join(dir, 'evil.txt'))).toBe(false);
    expect(existsSync(join(dir, 'cifar-10-batches-bin'))).toBe(false);
    expect(readdirSync(join(dir, '.download')).filter((f) => f.startsWith('unpack-'))).toEqual([]);
  });

  it('datasets without a download and a broken sources file exit 2', async () => {
    const tiny = await cli(['--dataset', 'tiny-imagenet', '--data-dir', join(work, 'tiny'), '--download'], sources('x', `${base}/x`));
    expect(tiny.status).toBe(2);
    expect(tiny.stderr).toMatch(/--download: tiny-imagenet is not offered for download \(cifar10, cifar100, svhn are\)/);
    const bad = join(work, 'broken-sources.json');
    writeFileSync(bad, '{"cifar10": {"files": [{"url": 5}]}}');
    const r = await cli(train(join(work, 'bs')), bad);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/DGKD_DOWNLOAD_SOURCES: .*broken-sources\.json: 'cifar10' needs files: \[\{url, md5/);
  });
});
