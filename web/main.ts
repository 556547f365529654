// The demo page: pick a chain and methods, train in a Web Worker on the built-in dataset, and watch the loss and
// test-accuracy curves of every stage live, then the final table. `window.dgkd` lets a test drive it.

import { NO_WEBGPU } from '../engine/web/gpu.ts';
import { DEFAULT_CONFIG, type DemoConfig, type DemoMethod, type FromWorker, type ResultRow } from './protocol.ts';
import type { CheckResult } from './check.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
/** A colour per method, the same in both charts. */
const COLORS: Record<string, string> = { Teacher: '#333', Assistant: '#999', NOKD: '#1f77b4', KD: '#ff7f0e', TAKD: '#2ca02c', DGKD: '#d62728' };

interface Series {
  method: string;
  losses: number[];
  accs: number[];
}

const state = {
  adapter: '',
  running: false,
  paused: false,
  stage: '',
  series: new Map<string, Series>(),
  rows: [] as ResultRow[],
  seconds: 0,
  error: '',
  done: false,
  /** Steps reported so far, over all stages. */
  steps: 0,
};

let worker: Worker | null = null;
let checkWaiter: ((r: CheckResult) => void) | null = null;

function ensureWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onMessage(e.data);
  worker.onerror = (e) => onMessage({ type: 'error', message: e.message || 'the worker failed to start' });
  return worker;
}

function onMessage(m: FromWorker): void {
  switch (m.type) {
    case 'ready':
      state.adapter = m.adapter;
      $('adapter').textContent = m.adapter;
      break;
    case 'stage':
      state.stage = m.stage;
      state.series.set(m.stage, { method: m.method, losses: [], accs: [] });
      $('status').textContent = `stage ${m.index + 1} of ${m.total}: ${m.stage}`;
      break;
    case 'step': {
      state.steps++;
      state.series.get(m.stage)?.losses.push(m.loss);
      $('step').textContent = `epoch ${m.epoch + 1}, step ${m.step}/${m.steps} — loss ${m.loss.toFixed(3)} — ${m.imagesPerSec.toFixed(0)} img/s`;
      if (m.step % 4 === 0 || m.step === m.steps) draw();
      break;
    }
    case 'epoch':
      state.series.get(m.stage)?.accs.push(m.testAcc);
      draw();
      break;
    case 'paused':
      state.paused = true;
      $('status').textContent = `stopped in ${state.stage} (Resume continues)`;
      buttons();
      break;
    case 'resumed':
      state.paused = false;
      buttons();
      break;
    case 'done':
      state.rows = m.rows;
      state.seconds = m.seconds;
      state.running = false;
      state.done = true;
      $('status').textContent = `done in ${m.seconds.toFixed(0)} s`;
      table();
      buttons();
      break;
    case 'check':
      checkWaiter?.(m.result);
      checkWaiter = null;
      break;
    case 'error':
      state.error = m.message;
      state.running = false;
      $('error').textContent = m.message;
      $('error').hidden = false;
      buttons();
      break;
  }
}

function readConfig(): DemoConfig {
  const num = (id: string) => Number(($(id) as HTMLInputElement).value);
  const methods = (['nokd', 'kd', 'takd', 'dgkd'] as DemoMethod[]).filter((m) => ($(`m-${m}`) as HTMLInputElement).checked);
  return {
    ...DEFAULT_CONFIG,
    teacher: ($('teacher') as HTMLSelectElement).value,
    assistant: ($('assistant') as HTMLSelectElement).value,
    student: ($('student') as HTMLSelectElement).value,
    methods,
    epochs: num('epochs'),
    trainSize: num('trainSize'),
  };
}

/** Shows a configuration in the form (a run started from the console or a test shows what it runs). */
function showConfig(c: DemoConfig): void {
  for (const k of ['teacher', 'assistant', 'student'] as const) {
    const sel = $(k) as HTMLSelectElement;
    if (!Array.from({ length: sel.options.length }, (_, i) => sel.options[i].value).includes(c[k])) sel.add(new Option(c[k]));
    sel.value = c[k];
  }
  for (const m of ['nokd', 'kd', 'takd', 'dgkd'] as DemoMethod[]) ($(`m-${m}`) as HTMLInputElement).checked = c.methods.includes(m);
  ($('epochs') as HTMLInputElement).value = String(c.epochs);
  ($('trainSize') as HTMLInputElement).value = String(c.trainSize);
}

function start(config: DemoConfig = readConfig()): void {
  if (state.running) return;
  showConfig(config);
  Object.assign(state, { running: true, paused: false, done: false, rows: [], error: '', series: new Map(), steps: 0 });
  $('error').hidden = true;
  $('results').innerHTML = '';
  ensureWorker().postMessage({ type: 'start', config });
  buttons();
}

function buttons(): void {
  ($('start') as HTMLButtonElement).disabled = state.running;
  ($('stop') as HTMLButtonElement).disabled = !state.running || state.paused;
  ($('resume') as HTMLButtonElement).disabled = !state.running || !state.paused;
}

/** One SVG line chart (a polyline per series over a shared x range) with an HTML legend that wraps. */
function chart(id: string, title: string, series: [string, string, number[]][], percent: boolean): void {
  const W = 460;
  const H = 220;
  const pad = { l: 44, r: 10, t: 22, b: 22 };
  const xs = Math.max(2, ...series.map(([, , v]) => v.length));
  const all = series.flatMap(([, , v]) => v).filter(Number.isFinite);
  // Accuracy up to the next 10% above the best; losses up to the largest, so the curves fill the chart.
  const top = percent ? Math.min(1, Math.ceil((Math.max(0.1, ...all) + 0.01) * 10) / 10) : Math.max(1e-6, ...all) * 1.05;
  const X = (i: number) => pad.l + (i / (xs - 1)) * (W - pad.l - pad.r);
  const Y = (v: number) => pad.t + (1 - Math.min(v, top) / top) * (H - pad.t - pad.b);
  const color = (method: string) => COLORS[method] ?? '#555';
  const lines = series.map(([name, method, v]) => {
    const pts = v.map((y, i) => `${X(i).toFixed(1)},${Y(y).toFixed(1)}`).join(' ');
    return `<polyline fill="none" stroke="${color(method)}" stroke-width="1.6" points="${pts}"><title>${name}</title></polyline>`;
  });
  const legend = series.map(([name, method]) => `<span style="color:${color(method)}">■ ${name}</span>`).join(' ');
  $(id).innerHTML =
    `<svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">` +
    `<text x="${pad.l}" y="14" font-weight="bold">${title}</text>` +
    `<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#999"/>` +
    `<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#999"/>` +
    `<text x="4" y="${pad.t + 8}">${percent ? `${(top * 100).toFixed(0)}%` : top.toFixed(2)}</text><text x="4" y="${H - pad.b}">0</text>` +
    lines.join('') +
    `</svg><div class="legend">${legend}</div>`;
}

function draw(): void {
  const entries = [...state.series.entries()];
  chart('lossChart', 'training loss per step (each method’s own objective)', entries.map(([n, s]) => [n, s.method, s.losses]), false);
  chart('accChart', 'test accuracy after each epoch', entries.map(([n, s]) => [n, s.method, [0, ...s.accs]]), true);
}

function table(): void {
  const nokd = state.rows.find((r) => r.method === 'NOKD');
  const delta = (r: ResultRow) => (nokd && r.arch === nokd.arch && r !== nokd ? `${((r.testAcc - nokd.testAcc) * 100 >= 0 ? '+' : '')}${((r.testAcc - nokd.testAcc) * 100).toFixed(2)}` : '');
  const rows = state.rows
    .map((r) => `<tr><td>${r.method}</td><td>${r.arch}</td><td>${(r.testAcc * 100).toFixed(2)}%</td><td>${delta(r)}</td><td>${r.seconds.toFixed(1)} s</td></tr>`)
    .join('');
  $('results').innerHTML =
    `<table><thead><tr><th>Method</th><th>Model</th><th>Test accuracy</th><th>Δ vs NOKD</th><th>Time</th></tr></thead><tbody>${rows}</tbody></table>` +
    `<p class="sub">One seed, a few epochs: a demonstration, not a result (the command line reports means over seeds).</p>`;
}

function setup(): void {
  if (!navigator.gpu) {
    $('error').textContent = NO_WEBGPU;
    $('error').hidden = false;
    ($('start') as HTMLButtonElement).disabled = true;
    return;
  }
  $('start').onclick = () => start();
  $('stop').onclick = () => worker?.postMessage({ type: 'pause' });
  $('resume').onclick = () => worker?.postMessage({ type: 'resume' });
  buttons();
  draw();
}

/** For tests and the console: drive the page without clicks. */
(window as unknown as { dgkd: unknown }).dgkd = {
  state,
  start: (config: Partial<DemoConfig>) => start({ ...DEFAULT_CONFIG, ...config }),
  pause: () => worker?.postMessage({ type: 'pause' }),
  resume: () => worker?.postMessage({ type: 'resume' }),
  check: () =>
    new Promise<CheckResult>((resolve) => {
      checkWaiter = resolve;
      ensureWorker().postMessage({ type: 'check' });
    }),
};

setup();
