// The demo page in a real headless Chromium (Debian's package, WebGPU through its built-in SwiftShader), driven by
// playwright-core: the built page loads from a local server, trains a small chain in its Web Worker with the loss
// falling, and a fixed-seed forward and backward pass gives the numbers the Node engine gives on lavapipe.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb } from '../scripts/build-web.ts';
import { serveStatic } from '../scripts/serve-static.ts';
import { initGpu } from '../engine/node/dawn.ts';
import { gpuOptionsFromEnv } from '../dgkd/gpu_options.ts';
import { forwardBackwardCheck, worstDifference, type CheckResult } from '../web/check.ts';
import type { ResultRow } from '../web/protocol.ts';

const root = resolve(import.meta.dirname, '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium';
/** Largest difference allowed between Chromium's SwiftShader and Node's lavapipe, relative to the values' scale. */
const TOLERANCE = 1e-4;
const artifacts = join(root, 'test-browser', 'artifacts');

const servers: Server[] = [];
let browser: Browser;
let page: Page;
let url = '';

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (.ci/run does) or set CHROMIUM_PATH`);
  await buildWeb();
  url = await serveStatic(join(root, 'dist'), 0, servers);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'],
  });
  page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
  page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page] ${e.message}`));
  await page.goto(url);
});

afterAll(async () => {
  await browser?.close();
  for (const s of servers) s.close();
});

it('the page has WebGPU and trains a small chain in its worker: the loss falls, the table fills', async () => {
  await page.evaluate(() =>
    (window as unknown as { dgkd: { start(c: object): void } }).dgkd.start({
      teacher: 'plain3', assistant: 'plain2', student: 'plain2', methods: ['kd'], epochs: 4, trainSize: 128, testSize: 64, batchSize: 16, lr: 0.03,
    }),
  );
  await page.waitForFunction(() => {
    const s = (window as unknown as { dgkd: { state: { done: boolean; error: string } } }).dgkd.state;
    return s.done || s.error;
  }, null, { timeout: 540_000, polling: 1000 });
  const state = await page.evaluate(() => {
    const s = (window as unknown as { dgkd: { state: { error: string; adapter: string; rows: ResultRow[]; series: Map<string, { losses: number[] }> } } }).dgkd.state;
    return { error: s.error, adapter: s.adapter, rows: s.rows, losses: [...s.series.entries()].map(([k, v]) => [k, v.losses] as const) };
  });
  mkdirSync(artifacts, { recursive: true });
  await page.screenshot({ path: join(artifacts, 'demo.png'), fullPage: true });
  expect(state.error).toBe('');
  console.log(`Chromium adapter: ${state.adapter}`);
  expect(state.adapter).not.toBe('');
  expect(state.rows.map((r) => r.method)).toEqual(['Teacher', 'KD']);
  for (const [stage, losses] of state.losses) {
    const first = losses.slice(0, 4).reduce((a, b) => a + b, 0) / 4;
    const last = losses.slice(-4).reduce((a, b) => a + b, 0) / 4;
    console.log(`${stage}: loss ${first.toFixed(3)} → ${last.toFixed(3)} over ${losses.length} steps`);
    expect(last).toBeLessThan(first);
  }
});

type DemoWindow = { dgkd: { start(c: object): void; pause(): void; resume(): void; state: { steps: number; paused: boolean; done: boolean; error: string } } };

it('Stop holds the training between steps and Resume finishes it', async () => {
  await page.evaluate(() =>
    (window as unknown as DemoWindow).dgkd.start({ teacher: 'plain2', methods: [], epochs: 3, trainSize: 320, testSize: 32, batchSize: 16 }),
  );
  await page.waitForFunction(() => (window as unknown as DemoWindow).dgkd.state.steps >= 5, null, { timeout: 120_000, polling: 100 });
  await page.evaluate(() => (window as unknown as DemoWindow).dgkd.pause());
  await page.waitForFunction(() => (window as unknown as DemoWindow).dgkd.state.paused, null, { timeout: 30_000, polling: 100 });
  const stoppedAt = await page.evaluate(() => (window as unknown as DemoWindow).dgkd.state.steps);
  await page.waitForTimeout(2000);
  const later = await page.evaluate(() => (window as unknown as DemoWindow).dgkd.state.steps);
  expect(later - stoppedAt).toBeLessThanOrEqual(1); // at most the step that was in flight reports
  expect(await page.isDisabled('#resume')).toBe(false);
  await page.evaluate(() => (window as unknown as DemoWindow).dgkd.resume());
  await page.waitForFunction(() => (window as unknown as DemoWindow).dgkd.state.done, null, { timeout: 300_000, polling: 500 });
  const end = await page.evaluate(() => (window as unknown as DemoWindow).dgkd.state);
  expect(end.error).toBe('');
  expect(end.steps).toBe(60); // 3 epochs of 20 steps, none lost or repeated
});

it('without WebGPU the page says so and how to enable it', async () => {
  const bare = await browser.newPage();
  await bare.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
  await bare.goto(url);
  expect(await bare.textContent('#error')).toMatch(/This browser has no WebGPU.*--enable-unsafe-webgpu/);
  expect(await bare.isDisabled('#start')).toBe(true);
  await bare.close();
});

it(`a fixed-seed forward and backward pass gives Node's numbers (within ${TOLERANCE} relative)`, async () => {
  const inBrowser = await page.evaluate(() => (window as unknown as { dgkd: { check(): Promise<CheckResult> } }).dgkd.check());
  await initGpu({ ...gpuOptionsFromEnv(), log: false });
  const inNode = await forwardBackwardCheck();
  const worst = worstDifference(inBrowser, inNode);
  console.log(`browser (${inBrowser.adapter}) vs Node: worst relative difference ${worst.diff.toExponential(2)} at ${worst.what}`);
  expect(worst.diff).toBeLessThanOrEqual(TOLERANCE);
});
