/**
 * Soak in the browser (issue 6 "Days-long running", reliability §5.1 test 25, page part): the built app
 * in Debian Chromium against the simulator running fast, for a simulated day with the 08:00 UTC expiry
 * roll. bench/soak.bench.ts does the same for the engine host in Node; this one adds what only a page
 * has: the page's JS heap, DOM nodes and listeners, the web worker's own heap, the series' history
 * ring and what the screen says (result stamp vs the simulator's clock, stale banner).
 *
 * Samples every simulated hour (SAMPLE_MINUTES), each after a forced GC (CDP HeapProfiler.collectGarbage),
 * the page's the smallest of three readings (one may catch a render in flight):
 *  - page heap: Runtime.getHeapUsage of the page's isolate; Performance.getMetrics Nodes, JSEventListeners;
 *  - worker heap: the same two calls sent to the dedicated worker's target. Playwright cannot open a
 *    CDP session on a worker, so the page session auto-attaches to it (non-flat mode) and relays
 *    messages with Target.sendMessageToTarget. (`performance.memory` is null in the worker here and is
 *    blind to workers from the page; measureUserAgentSpecificMemory needs a cross-origin-isolated page.)
 *  - expiries listed by the page (its expiry picker; refetched every 30 s wall, so a roll shows up to
 *    30 s x speed late), GEX over time (the page is on the history panel's heatmap tab: minutes drawn, and the
 *    minutes and session points kept in IndexedDB, written at most once a second: 24 h and 6 h rings), the persisted ring, which
 *    is written every 10 s wall), result stamp lag = simulator time - the valuation time on screen,
 *    feed state, stale banner.
 * A stamp that stops moving while the simulator runs (more than 5 s of wall time behind) is FROZEN.
 *
 * Verdict: FLAT when, after the warm-up, the least-squares growth is under the bounds below both per
 * simulated hour and per live hour (the growth per result shown, times 14,400 results an hour).
 *
 * The page is opened by Playwright, whose focus emulation keeps it visible and unthrottled, as a wall
 * display is. Hidden and frozen tabs are e2e/hidden-tab.spec.ts.
 *
 * Environment (GEXDESK_CHROMIUM_SOAK_* first, then the Node soak's GEXDESK_SOAK_*): HOURS (default 36),
 * SPEED (default 480: a day in 3 min), WARMUP_HOURS (default 25, at most 70 % of HOURS: past the 08:00
 * roll and the rings filling up, 6 h of session points and 24 h of GEX over time), DROP_EVERY_HOURS (default 0: the Node soak already forces drops; set it to add
 * reconnects here), SAMPLE_MINUTES (default 60 simulated minutes).
 * Results are capped at 4 Hz of wall time, so a fast run shows fewer results per simulated hour than a
 * live page (30 at 480x against 14,400): hence the per-live-hour figure.
 */
import { chromium, type CDPSession } from '@playwright/test';
import { join } from 'node:path';
import { startServer } from '../server/server.ts';
import { buildApp, type Figure, LIVE_RESULTS_PER_H, MIN_TREND_SAMPLES, root, slope } from './lib.ts';

const outDir = join(root, 'bench', 'out', 'chromium-soak-dist');
const HOUR = 3_600_000;
const MB = 2 ** 20;
/** Flatness bounds after warm-up (reliability §3.1 proposes 1 MB per simulated hour for page and worker, 0 DOM nodes). */
const PAGE_HEAP_MB_PER_H = 1;
const WORKER_HEAP_MB_PER_H = 1;
/** Nodes and listeners follow the number of bars (strikes in range), which moves with spot: allow that noise, not a trend. */
const NODES_PER_H = 10;
const LISTENERS_PER_H = 10;
/** The stamp may trail the simulator by a few recompute intervals; this much wall time behind is not live. */
const FROZEN_LAG_WALL_S = 5;

function envNum(names: string[], def: number): number {
  for (const n of names) {
    const v = Number(process.env[n]);
    if (process.env[n] !== undefined && Number.isFinite(v) && v >= 0) return v;
  }
  return def;
}
const env = (suffix: string, def: number) => envNum([`GEXDESK_CHROMIUM_SOAK_${suffix}`, `GEXDESK_SOAK_${suffix}`], def);

/**
 * CDP to the page's dedicated worker, relayed through the page session (Playwright attaches its own flat
 * session to workers but exposes no CDPSession for them).
 */
async function workerChannel(page: CDPSession): Promise<{ send: (method: string, params?: object) => Promise<Record<string, unknown>>; attached: () => boolean }> {
  let sessionId: string | null = null;
  let nextId = 0;
  const pending = new Map<number, (m: Record<string, unknown>) => void>();
  page.on('Target.attachedToTarget', (e) => {
    if (e.targetInfo.type === 'worker') sessionId = e.sessionId;
  });
  page.on('Target.detachedFromTarget', (e) => {
    if (e.sessionId === sessionId) sessionId = null;
  });
  page.on('Target.receivedMessageFromTarget', (e) => {
    const m = JSON.parse(e.message) as { id?: number };
    const p = m.id === undefined ? undefined : pending.get(m.id);
    if (p) {
      pending.delete(m.id!);
      p(m as Record<string, unknown>);
    }
  });
  await page.send('Target.setAutoAttach', { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    attached: () => sessionId !== null,
    send: (method, params = {}) => {
      if (!sessionId) return Promise.reject(new Error('no worker attached'));
      const id = ++nextId;
      const sid = sessionId;
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`worker ${method} timed out`));
        }, 30_000);
        pending.set(id, (m) => {
          clearTimeout(t);
          if (m.error) reject(new Error(`worker ${method}: ${JSON.stringify(m.error)}`));
          else resolve((m.result ?? {}) as Record<string, unknown>);
        });
        void page.send('Target.sendMessageToTarget', { sessionId: sid, message: JSON.stringify({ id, method, params }) }).catch(reject);
      });
    },
  };
}

/** What the screen shows, read in one evaluate (a string: tsx would wrap named functions in __name). */
const SCREEN = `(async () => {
  const stamp = document.querySelector('[data-testid="result-stamp"]');
  const exp = [...document.querySelectorAll('[data-expiry]')].map((e) => e.getAttribute('data-expiry'));
  const heat = document.querySelector('[data-testid="heatmap-minutes"]');
  const feed = document.querySelector('[data-feed]');
  // What IndexedDB holds of the series: session points and minute samples (counted by key).
  const stored = await new Promise((resolve) => {
    const req = indexedDB.open('gexdesk-history');
    req.onerror = () => resolve({ points: -1, minutes: -1 });
    req.onsuccess = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('minutes')) { db.close(); resolve({ points: 0, minutes: 0 }); return; }
      const tx = db.transaction(['points', 'minutes'], 'readonly');
      const range = IDBKeyRange.bound(['sim|deribit|BTC|classic|all', -Infinity], ['sim|deribit|BTC|classic|all', Infinity]);
      const out = { points: 0, minutes: 0 };
      tx.objectStore('points').count(range).onsuccess = (e) => (out.points = e.target.result);
      tx.objectStore('minutes').count(range).onsuccess = (e) => (out.minutes = e.target.result);
      tx.oncomplete = () => { db.close(); resolve(out); };
      tx.onerror = () => { db.close(); resolve({ points: -1, minutes: -1 }); };
    };
  });
  return {
    minutesDrawn: heat ? Number(heat.getAttribute('data-count')) : 0,
    pointsSaved: stored.points,
    minutesSaved: stored.minutes,
    nowMs: stamp ? Number(stamp.getAttribute('data-now-ms')) : null,
    seq: stamp ? Number(stamp.getAttribute('data-seq')) : null,
    stale: document.querySelector('[data-testid="stale-banner"]') !== null,
    expiries: exp,
    feed: feed ? feed.getAttribute('data-state') : null,
    restarts: (document.querySelector('.status')?.textContent ?? '').match(/engine restarts\\s*(\\d+)/)?.[1] ?? null,
  };
})()`;

interface Screen {
  minutesDrawn: number;
  pointsSaved: number;
  minutesSaved: number;
  nowMs: number | null;
  seq: number | null;
  stale: boolean;
  expiries: string[];
  feed: string | null;
  restarts: string | null;
}

interface Sample {
  simH: number;
  pageHeapMb: number;
  metricHeapMb: number;
  nodes: number;
  listeners: number;
  workerHeapMb: number;
  expiries: number;
  front: string;
  minutesDrawn: number;
  pointsSaved: number;
  minutesSaved: number;
  seq: number;
  lagMin: number;
  frozen: boolean;
  feed: string;
  stale: boolean;
}

export async function run(): Promise<Figure[]> {
  const hours = env('HOURS', 36);
  const speed = env('SPEED', 480);
  const warmupH = Math.min(env('WARMUP_HOURS', 25), hours * 0.7);
  const dropEveryH = env('DROP_EVERY_HOURS', 0);
  // Sample period in simulated hours (SAMPLE_MINUTES, default 60): shorter for slow runs (e.g. 1x, 10x).
  const sampleH = env('SAMPLE_MINUTES', 60) / 60;
  // A Friday 06:00 UTC: the daily and the weekly expire at 08:00, two simulated hours in.
  const startMs = Date.UTC(2026, 2, 6, 6, 0, 0);
  buildApp(outDir);
  const server = await startServer({ source: 'sim', seed: 42, speed, port: 0, serveDir: outDir, startMs });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-quic', '--disable-sync'],
  });
  const simNow = async (): Promise<number> => ((await (await fetch(`${server.url}/__gexdesk/info`)).json()) as { simTimeMs: number }).simTimeMs;
  const samples: Sample[] = [];
  const rolls: string[] = [];
  const errors: string[] = [];
  let staleSeen = 0;
  let polls = 0;
  let worstLagMin = 0;
  try {
    const context = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    const cdp = await context.newCDPSession(page);
    await cdp.send('Performance.enable');
    const worker = await workerChannel(cdp);
    // On the heatmap: GEX over time drawn and kept in IndexedDB as the day goes by.
    await page.goto(`${server.url}/?source=sim&currency=BTC&history=heatmap`);
    await page.getByTestId('spot').filter({ hasText: /\d/ }).waitFor({ timeout: 60_000 });
    const wallStart = Date.now();
    console.log('  sim h | wall s | page heap MB | metric MB | nodes | listeners | worker MB | expiries (front) | minutes drawn | minutes, points saved | results | lag min | feed');
    let nextSampleH = Math.floor((await simNow() - startMs) / HOUR / sampleH) * sampleH;
    let nextDropH = dropEveryH > 0 ? dropEveryH : Infinity;
    let prevFront: string | null = null;
    let prevStamp: number | null = null;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const t = await simNow();
      const simH = (t - startMs) / HOUR;
      const screen = (await page.evaluate(SCREEN)) as Screen;
      polls++;
      if (screen.stale) staleSeen++;
      const lagMin = screen.nowMs ? (t - screen.nowMs) / 60_000 : NaN;
      if (simH > 0.5 && Number.isFinite(lagMin)) worstLagMin = Math.max(worstLagMin, lagMin);
      const front = screen.expiries[0] ?? null;
      if (front !== null && prevFront !== null && front !== prevFront) rolls.push(`${prevFront} left the page's expiry list by sim +${simH.toFixed(2)} h`);
      if (front !== null) prevFront = front;
      if (simH >= nextDropH) {
        await fetch(`${server.url}/__sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"drop"}' });
        nextDropH += dropEveryH;
      }
      if (simH >= nextSampleH) {
        // A sample can land in the middle of a render (React keeps the outgoing tree until commit: +600
        // nodes, +2 MB): of three readings 300 ms apart, keep the smallest heap.
        let pageHeap = { usedSize: Infinity };
        let metrics: { name: string; value: number }[] = [];
        for (let i = 0; i < 3; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, 300));
          await cdp.send('HeapProfiler.collectGarbage');
          const h = await cdp.send('Runtime.getHeapUsage');
          const m = await cdp.send('Performance.getMetrics');
          if (h.usedSize < pageHeap.usedSize) {
            pageHeap = h;
            metrics = m.metrics;
          }
        }
        const metric = (n: string) => metrics.find((m) => m.name === n)?.value ?? NaN;
        let workerHeapMb = NaN;
        if (worker.attached()) {
          await worker.send('HeapProfiler.collectGarbage');
          workerHeapMb = Number((await worker.send('Runtime.getHeapUsage')).usedSize) / MB;
        }
        const frozen = prevStamp !== null && screen.nowMs === prevStamp && (lagMin * 60) / speed > FROZEN_LAG_WALL_S;
        prevStamp = screen.nowMs;
        const sample: Sample = {
          simH: Math.round(simH * 100) / 100,
          pageHeapMb: pageHeap.usedSize / MB,
          metricHeapMb: metric('JSHeapUsedSize') / MB,
          nodes: metric('Nodes'),
          listeners: metric('JSEventListeners'),
          workerHeapMb,
          expiries: screen.expiries.length,
          front: front ?? '-',
          minutesDrawn: screen.minutesDrawn,
          pointsSaved: screen.pointsSaved,
          minutesSaved: screen.minutesSaved,
          seq: screen.seq ?? 0,
          lagMin,
          frozen,
          feed: screen.feed ?? '-',
          stale: screen.stale,
        };
        samples.push(sample);
        // Each row as it is taken: a run of an hour or more of wall time can be watched (and cut short).
        console.log(`  ${sample.simH.toFixed(2).padStart(5)} | ${String(Math.round((Date.now() - wallStart) / 1000)).padStart(6)} | ${sample.pageHeapMb.toFixed(2).padStart(12)} | ${sample.metricHeapMb.toFixed(2).padStart(9)} | ${String(sample.nodes).padStart(5)} | ${String(sample.listeners).padStart(9)} | ${sample.workerHeapMb.toFixed(2).padStart(9)} | ${`${sample.expiries} (${sample.front})`.padStart(16)} | ${String(sample.minutesDrawn).padStart(13)} | ${`${sample.minutesSaved}, ${sample.pointsSaved}`.padStart(21)} | ${String(sample.seq).padStart(7)} | ${sample.lagMin.toFixed(1).padStart(7)}${frozen ? ' FROZEN' : ''} | ${sample.feed}${sample.stale ? ' STALE BANNER' : ''}`);
        nextSampleH = (Math.floor(simH / sampleH) + 1) * sampleH;
      }
      if (simH >= hours) break;
    }
    const wallS = (Date.now() - wallStart) / 1000;
    const restarts = ((await page.evaluate(SCREEN)) as Screen).restarts;

    console.log(`  chromium soak: ${hours} simulated h at ${speed}x in ${wallS.toFixed(0)} s wall; GC forced (CDP) before each sample; forced drops ${dropEveryH > 0 ? `every ${dropEveryH} sim h` : 'off'}`);
    for (const r of rolls) console.log(`  expiry ${r}`);
    const after = samples.filter((s) => s.simH >= warmupH);
    const first = samples[0];
    const warm = after[0] ?? first;
    const end = samples.at(-1)!;
    const xs = after.map((s) => s.simH);
    const pageSlope = slope(xs, after.map((s) => s.pageHeapMb));
    const workerSlope = slope(xs, after.map((s) => s.workerHeapMb));
    const nodesSlope = slope(xs, after.map((s) => s.nodes));
    const listenersSlope = slope(xs, after.map((s) => s.listeners));
    const pointsSlope = slope(xs, after.map((s) => s.pointsSaved));
    // Per result shown: a fast sim shows as many results per wall second as a live page, so per simulated
    // hour it under-counts what rendering leaves behind; scaled to a live hour it does not.
    const pageKbPerResult = slope(after.map((s) => s.seq), after.map((s) => s.pageHeapMb)) * 1024;
    const workerKbPerResult = slope(after.map((s) => s.seq), after.map((s) => s.workerHeapMb)) * 1024;
    const pageLiveMbPerH = (pageKbPerResult * LIVE_RESULTS_PER_H) / 1024;
    const workerLiveMbPerH = (workerKbPerResult * LIVE_RESULTS_PER_H) / 1024;
    const flatSim = pageSlope < PAGE_HEAP_MB_PER_H && workerSlope < WORKER_HEAP_MB_PER_H && nodesSlope < NODES_PER_H && listenersSlope < LISTENERS_PER_H;
    const flatLive = pageLiveMbPerH < PAGE_HEAP_MB_PER_H && workerLiveMbPerH < WORKER_HEAP_MB_PER_H;
    const enough = after.length >= MIN_TREND_SAMPLES;
    const flat = enough && flatSim && flatLive;
    const frozen = samples.some((s) => s.frozen) || !((end.lagMin * 60) / speed < FROZEN_LAG_WALL_S);
    console.log(`  after ${warmupH} h warm-up, per simulated hour: page heap ${pageSlope.toFixed(3)} MB (bound ${PAGE_HEAP_MB_PER_H}), worker heap ${Number.isFinite(workerSlope) ? workerSlope.toFixed(3) : 'n/a'} MB (bound ${WORKER_HEAP_MB_PER_H}), DOM nodes ${nodesSlope.toFixed(1)} (bound ${NODES_PER_H}), listeners ${listenersSlope.toFixed(1)} (bound ${LISTENERS_PER_H}),  session points saved ${pointsSlope.toFixed(1)} -> ${flatSim ? 'flat' : 'NOT FLAT'}`);
    console.log(`  per result shown: page ${pageKbPerResult.toFixed(3)} KB, worker ${workerKbPerResult.toFixed(3)} KB -> per live hour (${LIVE_RESULTS_PER_H} results): page ${pageLiveMbPerH.toFixed(2)} MB, worker ${workerLiveMbPerH.toFixed(2)} MB (bound ${PAGE_HEAP_MB_PER_H} each) -> ${flatLive ? 'flat' : 'NOT FLAT'}; verdict ${!enough ? `TOO SHORT (${after.length} samples after warm-up)` : flat ? 'FLAT' : 'NOT FLAT'}`);
    console.log(`  page heap ${first.pageHeapMb.toFixed(2)} -> ${warm.pageHeapMb.toFixed(2)} (warm) -> ${end.pageHeapMb.toFixed(2)} MB; worker ${first.workerHeapMb.toFixed(2)} -> ${warm.workerHeapMb.toFixed(2)} -> ${end.workerHeapMb.toFixed(2)} MB; nodes ${first.nodes} -> ${warm.nodes} -> ${end.nodes}`);
    console.log(`  display: lag at end ${end.lagMin.toFixed(1)} sim min, worst ${worstLagMin.toFixed(1)} sim min${frozen ? ' -> FROZEN (no drops injected)' : ' -> live'}; stale banner in ${staleSeen}/${polls} polls; ${rolls.length} roll(s) seen; engine restarts ${restarts ?? '?'}; page errors ${errors.length}${errors.length ? `: ${errors.slice(0, 3).join(' | ')}` : ''}`);
    return [
      { name: 'simulated hours', value: hours, unit: 'h' },
      { name: 'speed', value: speed, unit: 'x' },
      { name: 'wall time', value: wallS, unit: 's' },
      { name: 'page heap start', value: first.pageHeapMb, unit: 'MB' },
      { name: 'page heap after warm-up', value: warm.pageHeapMb, unit: 'MB' },
      { name: 'page heap end', value: end.pageHeapMb, unit: 'MB' },
      { name: 'page heap growth after warm-up', value: pageSlope, unit: 'MB/sim h' },
      { name: 'page heap per result after warm-up', value: pageKbPerResult, unit: 'KB/result' },
      { name: 'page heap per live hour (4 results/s)', value: pageLiveMbPerH, unit: 'MB/h' },
      { name: 'worker heap after warm-up', value: warm.workerHeapMb, unit: 'MB' },
      { name: 'worker heap end', value: end.workerHeapMb, unit: 'MB' },
      { name: 'worker heap growth after warm-up', value: workerSlope, unit: 'MB/sim h' },
      { name: 'worker heap per result after warm-up', value: workerKbPerResult, unit: 'KB/result' },
      { name: 'worker heap per live hour (4 results/s)', value: workerLiveMbPerH, unit: 'MB/h' },
      { name: 'DOM nodes end', value: end.nodes, unit: 'nodes' },
      { name: 'DOM nodes growth after warm-up', value: nodesSlope, unit: 'nodes/sim h' },
      { name: 'listeners growth after warm-up', value: listenersSlope, unit: 'listeners/sim h' },
      { name: 'session points saved end', value: end.pointsSaved, unit: 'points' },
      { name: 'minutes saved end', value: end.minutesSaved, unit: 'minutes' },
      { name: 'minutes drawn end (heatmap)', value: end.minutesDrawn, unit: 'minutes' },
      { name: 'results shown', value: end.seq, unit: 'results' },
      { name: 'expiry rolls seen', value: rolls.length, unit: 'rolls' },
      { name: 'stamp lag end', value: end.lagMin, unit: 'sim min' },
      { name: 'stamp lag worst', value: worstLagMin, unit: 'sim min' },
      { name: 'stale banner polls', value: staleSeen, unit: 'polls' },
      { name: 'flat (1 = yes)', value: flat ? 1 : 0, unit: '' },
      { name: 'frozen (1 = yes)', value: frozen ? 1 : 0, unit: '' },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
