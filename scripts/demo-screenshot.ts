// The README's picture of the demo: builds the page, runs a small chain with every method in headless Chromium
// (WebGPU through SwiftShader, so everything small), and saves docs/demo.png.
//
//   npx tsx scripts/demo-screenshot.ts

import { join, resolve } from 'node:path';
import type { Server } from 'node:http';
import { chromium } from 'playwright-core';
import { buildWeb } from './build-web.ts';
import { serveStatic } from './serve-static.ts';

const root = resolve(import.meta.dirname, '..');
const servers: Server[] = [];
await buildWeb();
const url = await serveStatic(join(root, 'dist'), 0, servers);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/lib/chromium/chromium',
  args: ['--headless=new', '--no-sandbox', '--enable-unsafe-webgpu'],
});
const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
await page.goto(url);
type DemoWindow = { dgkd: { start(c: object): void; state: { done: boolean; error: string; seconds: number } } };
await page.evaluate(() =>
  (window as unknown as DemoWindow).dgkd.start({ teacher: 'plain4', assistant: 'plain3', student: 'plain2', epochs: 4, trainSize: 1024, testSize: 500, batchSize: 32 }),
);
await page.waitForFunction(() => (window as unknown as DemoWindow).dgkd.state.done || (window as unknown as DemoWindow).dgkd.state.error, null, { timeout: 1_200_000, polling: 1000 });
const s = await page.evaluate(() => (window as unknown as DemoWindow).dgkd.state);
if (s.error) throw new Error(s.error);
await page.screenshot({ path: join(root, 'docs', 'demo.png'), fullPage: true });
console.log(`docs/demo.png written (the run took ${s.seconds.toFixed(0)} s in Chromium's SwiftShader)`);
await browser.close();
for (const srv of servers) srv.close();
