/**
 * Fault 6 (reliability.md §5): a flood at 10x the normal message rate. What a person sees: the page
 * keeps updating, a click is answered within a second, no error is shown, the main thread is never
 * blocked long, and memory stays bounded. The bench (`npm run bench -- ui`) reports the strict 50 ms
 * long-task figure; this test holds a bound that survives a loaded 2-core CI machine.
 */
import { expect, test, type CDPSession, type Page } from '@playwright/test';
import { resetSim, simPost, waitForFigures } from './helpers.ts';

const FLOOD_FACTOR = 10;
const FLOOD_MS = 15_000;
/** No main-thread task may block input for longer than this, even on a loaded machine. */
const MAX_TASK_MS = 200;
/** From the click on a control to the URL and the figures showing the new view. */
const MAX_ANSWER_MS = 1000;

interface Probe {
  longTasks: { start: number; duration: number }[];
  /** Each result the status bar showed: page time, seq, valuation time, dealer model. */
  stamps: { t: number; seq: number; nowMs: number; model: string }[];
  /** Each new result seq the gamma-by-strike chart drew. */
  chartSeqs: { t: number; seq: number }[];
  clicks: { t: number; testid: string }[];
  /** When the address bar first carried each model. */
  urlModel: Record<string, number>;
}

/** Injected before the app: long tasks, and per animation frame what the page shows. */
const probe = `
(() => {
  const p = { longTasks: [], stamps: [], chartSeqs: [], clicks: [], urlModel: {} };
  window.__flood = p;
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) p.longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
  document.addEventListener('click', (e) => {
    const el = e.target instanceof Element ? e.target.closest('[data-testid]') : null;
    p.clicks.push({ t: performance.now(), testid: el ? el.getAttribute('data-testid') : '' });
  }, true);
  let lastSeq = null;
  let lastChart = null;
  const frame = () => {
    const t = performance.now();
    const s = document.querySelector('[data-testid="result-stamp"]');
    const seq = s && s.getAttribute('data-seq');
    if (seq && seq !== lastSeq) {
      lastSeq = seq;
      if (p.stamps.length < 5000) p.stamps.push({ t, seq: Number(seq), nowMs: Number(s.getAttribute('data-now-ms')), model: s.getAttribute('data-model') || '' });
    }
    const c = document.querySelector('[data-testid="chart-stamp"]');
    const cseq = c && c.getAttribute('data-seq');
    if (cseq && cseq !== lastChart) {
      lastChart = cseq;
      if (p.chartSeqs.length < 5000) p.chartSeqs.push({ t, seq: Number(cseq) });
    }
    const m = new URLSearchParams(location.search).get('model');
    if (m && !(m in p.urlModel)) p.urlModel[m] = t;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);
})();`;

const readProbe = (page: Page) => page.evaluate(() => (window as unknown as { __flood: Probe }).__flood);
const pageNow = (page: Page) => page.evaluate(() => performance.now());

/** Main-thread JS heap and DOM nodes after a full GC (CDP). */
async function memory(cdp: CDPSession): Promise<{ heap: number; nodes: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { metrics } = await cdp.send('Performance.getMetrics');
  const get = (n: string) => metrics.find((m) => m.name === n)?.value ?? NaN;
  return { heap: get('JSHeapUsedSize'), nodes: get('Nodes') };
}

/** Messages per second the status bar reports for the (single) Deribit feed. */
async function feedRate(page: Page): Promise<number> {
  const text = await page.locator('[data-feed^="deribit"]').first().innerText();
  const m = /([\d,]+) msg\/s/.exec(text);
  return m ? Number(m[1].replace(/,/g, '')) : NaN;
}

/** What would read as an error: a feed not connected or with an error mark, a stale banner, an error notice. */
async function visibleProblems(page: Page): Promise<string[]> {
  const out: string[] = [];
  for (const f of await page.locator('[data-feed]').all()) {
    const state = await f.getAttribute('data-state');
    const text = await f.innerText();
    if (state !== 'connected' || text.includes('⚠')) out.push(`feed ${await f.getAttribute('data-feed')}: ${text}`);
  }
  if ((await page.getByTestId('stale-banner').count()) > 0) out.push(`stale banner: ${await page.getByTestId('stale-banner').innerText()}`);
  for (const n of await page.locator('.notice.error').all()) out.push(`error notice: ${await n.innerText()}`);
  return out;
}

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

test('a 10x flood: the page keeps updating, answers a click within 1 s, shows no error, never blocks 200 ms, memory bounded', async ({ page, context, request }) => {
  test.setTimeout(90_000);
  await page.addInitScript(probe);
  await page.goto('/?source=sim&currency=BTC&model=classic');
  await waitForFigures(page);
  await expect(page.getByTestId('result-stamp')).toHaveAttribute('data-model', 'classic');
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  // A steady state first: the health window has a normal message rate, the charts are drawn.
  await expect.poll(() => feedRate(page), { timeout: 15_000 }).toBeGreaterThan(0);
  await page.waitForTimeout(2000);
  const normalRate = await feedRate(page);
  const before = await memory(cdp);

  const start = await pageNow(page);
  await simPost(request, '/__sim/fault', { kind: 'flood', factor: FLOOD_FACTOR });
  const floodStartedAt = Date.now();

  // The flood reaches the page's feed (else this test would test nothing).
  await expect.poll(() => feedRate(page), { timeout: 10_000 }).toBeGreaterThanOrEqual(normalRate * 3);
  const floodRate = await feedRate(page);

  // Halfway through, a person changes the dealer model.
  await page.waitForTimeout(Math.max(0, FLOOD_MS / 2 - (Date.now() - floodStartedAt)));
  expect(await visibleProblems(page)).toEqual([]);
  await page.getByTestId('model-short').click();
  await expect(page.getByTestId('result-stamp')).toHaveAttribute('data-model', 'short', { timeout: 10_000 });
  await expect.poll(() => new URL(page.url()).searchParams.get('model'), { timeout: 10_000 }).toBe('short');
  // Dealers short every option: the figures turn negative.
  await expect(page.getByTestId('regime')).toHaveText('NEGATIVE GAMMA');
  await expect(page.getByTestId('net-gex')).toHaveText(/^-\$/);

  await page.waitForTimeout(Math.max(0, FLOOD_MS - (Date.now() - floodStartedAt)));
  expect(await visibleProblems(page)).toEqual([]);
  const end = await pageNow(page);
  const p = await readProbe(page);
  await simPost(request, '/__sim/clear');
  const after = await memory(cdp);

  const stamps = p.stamps.filter((s) => s.t >= start && s.t <= end);
  const chart = p.chartSeqs.filter((s) => s.t >= start && s.t <= end);
  const tasks = p.longTasks.filter((x) => x.start + x.duration >= start && x.start <= end);
  const seconds = (end - start) / 1000;
  const gaps = (ts: number[]) => ts.slice(1).map((t, i) => t - ts[i]);
  const click = p.clicks.find((c) => c.testid === 'model-short' && c.t >= start);
  const shown = stamps.find((s) => click && s.t >= click.t && s.model === 'short');
  const urlAt = p.urlModel.short;
  const answerMs = click && shown && urlAt !== undefined ? Math.max(shown.t, urlAt) - click.t : NaN;
  const seqRate = stamps.length > 1 ? (stamps[stamps.length - 1].seq - stamps[0].seq) / seconds : 0;
  test.info().annotations.push({
    type: 'flood',
    description: [
      `feed ${normalRate} -> ${floodRate} msg/s; ${stamps.length} results shown in ${seconds.toFixed(1)} s (worker seq ${seqRate.toFixed(1)}/s), chart drew ${chart.length}`,
      `longest gap between results ${Math.max(0, ...gaps(stamps.map((s) => s.t))).toFixed(0)} ms; click answered in ${answerMs.toFixed(0)} ms`,
      `long tasks (> 50 ms) ${tasks.length}: ${tasks.map((x) => `${x.duration.toFixed(0)} ms at +${((x.start - start) / 1000).toFixed(2)} s`).join(', ') || 'none'}${click ? ` (click at +${((click.t - start) / 1000).toFixed(2)} s)` : ''}`,
      `heap ${(before.heap / 1e6).toFixed(1)} -> ${(after.heap / 1e6).toFixed(1)} MB, DOM nodes ${before.nodes} -> ${after.nodes}`,
    ].join('; '),
  });

  // The page kept updating: results and the chart at least once a second, never frozen for 2 s, and
  // the valuation time moved with the market.
  expect(stamps.length).toBeGreaterThanOrEqual(Math.floor(seconds));
  expect(chart.length).toBeGreaterThanOrEqual(Math.floor(seconds));
  expect(Math.max(...gaps([start, ...stamps.map((s) => s.t), end]))).toBeLessThan(2000);
  expect(stamps[stamps.length - 1].nowMs - stamps[0].nowMs).toBeGreaterThan(0.5 * (stamps[stamps.length - 1].t - stamps[0].t));
  // The worker coalesced: about its 4 Hz ceiling, not a result per flooded frame.
  expect(seqRate).toBeLessThanOrEqual(6);
  // The click was answered: address bar and figures on the new model within a second, in page time.
  expect(click, 'click seen by the page').toBeDefined();
  expect(answerMs).toBeLessThan(MAX_ANSWER_MS);
  // The main thread was never blocked long.
  expect(tasks.filter((x) => x.duration > MAX_TASK_MS)).toEqual([]);
  // Memory bounded: what the flood left behind after a GC.
  expect(after.heap).toBeLessThan(before.heap * 1.3 + 2e6);
  expect(after.nodes).toBeLessThan(before.nodes * 1.2 + 100);
});
