// Builds the browser demo into dist/ (index.html, main.js, worker.js) with esbuild: the engine and the trainer's
// browser-safe parts bundled as they are, the .wgsl files carried as text (the virtual module
// 'virtual:dgkd-shaders'). With --serve, serves dist/ on localhost with node:http and prints the URL.
//
//   npm run build:web            a static dist/ to host anywhere
//   npm run demo                 build, then serve on http://localhost:8080 (--port N)

import { build, type Plugin } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveStatic } from './serve-static.ts';

const root = resolve(import.meta.dirname, '..');
const dist = join(root, 'dist');

/** 'virtual:dgkd-shaders' → { 'matmul.wgsl': '…', … }, read from shaders/ at build time. */
const shadersPlugin: Plugin = {
  name: 'dgkd-shaders',
  setup(b) {
    b.onResolve({ filter: /^virtual:dgkd-shaders$/ }, () => ({ path: 'shaders', namespace: 'dgkd-shaders' }));
    b.onLoad({ filter: /.*/, namespace: 'dgkd-shaders' }, () => {
      const dir = join(root, 'shaders');
      const files = readdirSync(dir).filter((f) => f.endsWith('.wgsl')).sort();
      const map = Object.fromEntries(files.map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
      return { contents: `export default ${JSON.stringify(map)};`, loader: 'js', watchFiles: files.map((f) => join(dir, f)) };
    });
  },
};

export async function buildWeb(): Promise<void> {
  mkdirSync(dist, { recursive: true });
  await build({
    entryPoints: { main: join(root, 'web/main.ts'), worker: join(root, 'web/worker.ts') },
    outdir: dist,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: true,
    minify: false,
    plugins: [shadersPlugin],
    logLevel: 'warning',
  });
  copyFileSync(join(root, 'web/index.html'), join(dist, 'index.html'));
}

if (process.argv[1]?.endsWith('build-web.ts')) {
  await buildWeb();
  console.log(`built ${dist} (index.html, main.js, worker.js)`);
  if (process.argv.includes('--serve')) {
    const at = process.argv.indexOf('--port');
    const port = at >= 0 ? Number(process.argv[at + 1]) : 8080;
    const url = await serveStatic(dist, port);
    console.log(`serving the demo at ${url} (Ctrl-C stops)`);
  }
}
