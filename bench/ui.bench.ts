/**
 * What a person sees, under load: the built app in Chromium against the simulator at 10x speed for
 * 60 s (GEXDESK_BENCH_UI_SECONDS to change). Prints main-thread long tasks (> 50 ms), frame-to-screen
 * latency (newest frame arrival / result computation -> the animation frame that paints the gamma-by-strike
 * chart, which renders deferred),
 * JS heap and DOM nodes at start and end (CDP Performance.getMetrics after a GC), main-thread time
 * per result (CDP TaskDuration/ScriptDuration/LayoutDuration+RecalcStyleDuration over the run: less
 * sensitive to a loaded machine than the long-task count), and the gzipped size of the JS bundle.
 */
import { chromium } from '@playwright/test';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startServer } from '../server/server.ts';
import { buildApp, type Figure, root } from './lib.ts';

const outDir = join(root, 'bench', 'out', 'ui-dist');

function bundleSizes(): { main: number; worker: number; css: number } {
  const dir = join(outDir, 'assets');
  let main = 0;
  let worker = 0;
  let css = 0;
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.map')) continue;
    const gz = gzipSync(readFileSync(join(dir, f)), { level: 9 }).length;
    if (f.endsWith('.css')) css += gz;
    else if (f.endsWith('.js') && f.includes('worker')) worker += gz;
    else if (f.endsWith('.js')) main += gz;
  }
  return { main, worker, css };
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Injected before the app: long tasks and the frame that first shows each result. */
const probe = `
(() => {
  const b = { longTasks: [], lat: [], latFrame: [], results: 0 };
  window.__bench = b;
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) b.longTasks.push(e.duration); }).observe({ type: 'longtask', buffered: true });
  } catch {}
  let last = null;
  const loop = (ts) => {
    const el = document.querySelector('[data-testid="chart-stamp"]');
    const seq = el && el.getAttribute('data-seq');
    if (seq && seq !== last) {
      last = seq;
      const paint = performance.timeOrigin + ts;
      const computed = Number(el.getAttribute('data-computed-at'));
      const frame = Number(el.getAttribute('data-frame-at'));
      b.results++;
      if (b.lat.length < 20000) {
        if (computed > 0) b.lat.push(paint - computed);
        if (frame > 0) b.latFrame.push(paint - frame);
      }
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
})();`;

export async function run(): Promise<Figure[]> {
  const seconds = Number(process.env.GEXDESK_BENCH_UI_SECONDS ?? 60);
  buildApp(outDir);
  const sizes = bundleSizes();
  const server = await startServer({ source: 'sim', seed: 42, speed: 10, port: 0, serveDir: outDir });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--enable-precise-memory-info'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    await page.addInitScript(probe);
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      const { metrics: m } = await cdp.send('Performance.getMetrics');
      const get = (n: string) => m.find((x: { name: string; value: number }) => x.name === n)?.value ?? NaN;
      return {
        heap: get('JSHeapUsedSize'), nodes: get('Nodes'), listeners: get('JSEventListeners'),
        // Cumulative main-thread seconds.
        task: get('TaskDuration'), script: get('ScriptDuration'), layout: get('LayoutDuration') + get('RecalcStyleDuration'),
      };
    };
    await page.goto(`${server.url}/?source=sim&currency=BTC`);
    await page.getByTestId('spot').filter({ hasText: /\d/ }).waitFor({ timeout: 30_000 });
    await page.waitForTimeout(2000);
    const start = await metrics();
    await page.evaluate(() => {
      const b = (window as unknown as { __bench: { longTasks: number[]; lat: number[]; latFrame: number[]; results: number } }).__bench;
      b.longTasks.length = 0;
      b.lat.length = 0;
      b.latFrame.length = 0;
      b.results = 0;
    });
    await page.waitForTimeout(seconds * 1000);
    const b = await page.evaluate(() => (window as unknown as { __bench: { longTasks: number[]; lat: number[]; latFrame: number[]; results: number } }).__bench);
    const end = await metrics();
    // Main-thread milliseconds per painted result (the gamma-by-strike chart's stamp changed).
    const perResult = (from: number, to: number) => ((to - from) * 1000) / Math.max(1, b.results);
    return [
      { name: 'duration (10x sim)', value: seconds, unit: 's' },
      { name: 'results painted', value: b.results, unit: '' },
      { name: 'long tasks > 50 ms', value: b.longTasks.filter((d) => d > 50).length, unit: '' },
      { name: 'longest task', value: b.longTasks.length ? Math.max(...b.longTasks) : 0, unit: 'ms' },
      { name: 'result computed -> paint p50', value: pct(b.lat, 50), unit: 'ms' },
      { name: 'result computed -> paint p99', value: pct(b.lat, 99), unit: 'ms' },
      { name: 'newest frame -> paint p50', value: pct(b.latFrame, 50), unit: 'ms' },
      { name: 'newest frame -> paint p99', value: pct(b.latFrame, 99), unit: 'ms' },
      { name: 'main thread busy', value: (100 * (end.task - start.task)) / seconds, unit: '% of wall' },
      { name: 'main thread per result', value: perResult(start.task, end.task), unit: 'ms' },
      { name: 'script per result', value: perResult(start.script, end.script), unit: 'ms' },
      { name: 'style+layout per result', value: perResult(start.layout, end.layout), unit: 'ms' },
      { name: 'JS heap start', value: start.heap / 1e6, unit: 'MB' },
      { name: 'JS heap end', value: end.heap / 1e6, unit: 'MB' },
      { name: 'DOM nodes start', value: start.nodes, unit: '' },
      { name: 'DOM nodes end', value: end.nodes, unit: '' },
      { name: 'event listeners start', value: start.listeners, unit: '' },
      { name: 'event listeners end', value: end.listeners, unit: '' },
      { name: 'bundle main JS gzip', value: sizes.main / 1024, unit: 'KB' },
      { name: 'bundle worker JS gzip', value: sizes.worker / 1024, unit: 'KB' },
      { name: 'bundle total JS gzip', value: (sizes.main + sizes.worker) / 1024, unit: 'KB' },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
