/**
 * Ingest benchmark (issue 10): all four venues' paths at their real message rates and at 10x.
 *
 * The frames are what each venue's real client receives from the local simulator, which pushes at the
 * venues' real rates (bench/ingest-capture.ts): Deribit tickers and the perp book every 100 ms, the
 * whole chain's marks every second; OKX opt-summary per family every second, OI per option every 3 s,
 * the perp book every 100 ms; Bybit every option ticker every 100 ms (USDC and USDT lists); Binance the
 * chain's marks every second and the perp depth every 100 ms. For BTC and for ETH:
 *
 * 1. Per venue, one thread, as fast as it goes: frames/s through the real feed and the EngineHost's
 *    sink into the ChainStore, against bare `JSON.parse` of the same frames (best of 3 passes, each on
 *    a fresh host), and from that the share of one core the venue costs at its real rate.
 * 2. All four venues at their real rates in a worker thread (the page's worker): the thread's CPU share
 *    (event-loop utilisation), results per second (at most 4), frame -> posted result latency, drops.
 * 3. The same at 10x (ten times the frames a second): what degrades is freshness; drops are counted,
 *    and once input stops the figures equal those of every frame applied in order (nothing shown wrong).
 * 4. A flood (the server's `flood` fault): every frame ten times at the real rates. The copies are
 *    counted as drops and change nothing: the figures equal those of each frame applied once.
 *
 * GEXDESK_INGEST_CAPTURE_S (default 30) sets the captured span; the 10x run plays all of it.
 */
import { Worker } from 'node:worker_threads';
import { startServer } from '../server/server.ts';
import type { Clock } from '../src/feeds/adapter.ts';
import type { Currency, VenueId } from '../src/chain/model.ts';
import type { ResultMessage } from '../src/worker/protocol.ts';
import { capture, playedHost, type Capture, type CapturedFrame } from './ingest-capture.ts';
import { finalFigures, type PacedResult, type PacedRun } from './ingest-worker.ts';
import type { Figure } from './lib.ts';

const VENUES: VenueId[] = ['deribit', 'okx', 'bybit', 'binance'];
const CAPTURE_MS = Number(process.env.GEXDESK_INGEST_CAPTURE_S ?? 30) * 1000;
const REAL_RUN_MS = Math.min(12_000, CAPTURE_MS - 2_000);
/** Target from issue 10: all four venues of one currency at real rates under this share of one core. */
const CPU_TARGET = 0.25;

const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

const tick = () => new Promise((r) => setTimeout(r, 0));

/**
 * Plays `frames` through a fresh host for `venues` as fast as they go, yielding every 200 frames so
 * timers and REST answers run (outside the timed part). Returns the time spent delivering, in ms, and
 * the host with every frame applied.
 */
async function unpaced(cap: Capture, venues: VenueId[], frames: CapturedFrame[]): Promise<{ ms: number; last: () => ResultMessage | null; dispose: () => void; dropped: number }> {
  const played = playedHost(cap, venues, realClock, (m) => {
    if (m.type === 'result') queueMicrotask(() => played.host.handle({ type: 'ack', seq: m.seq }));
  });
  await new Promise((r) => setTimeout(r, 50));
  let ms = 0;
  for (let k = 0; k < frames.length; k += 200) {
    const t0 = performance.now();
    const end = Math.min(frames.length, k + 200);
    for (let j = k; j < end; j++) played.deliver(frames[j]);
    ms += performance.now() - t0;
    await tick();
  }
  const dropped = played.host.health().reduce((n, h) => n + Object.values(h.dropped).reduce((a, b) => a + b, 0), 0);
  return { ms, last: () => played.host.snapshot(), dispose: () => played.host.dispose(), dropped };
}

function jsonParseMs(frames: CapturedFrame[]): number {
  let sink = 0;
  const t0 = performance.now();
  for (const f of frames) sink += (JSON.parse(f.text) as object) ? 1 : 0;
  const ms = performance.now() - t0;
  if (sink < 0) throw new Error('unreachable');
  return ms;
}

function paced(o: PacedRun): Promise<PacedResult> {
  // tsx is registered in the thread before the worker module loads (the bench runs under `node --import tsx`).
  const entry = new URL('./ingest-worker.ts', import.meta.url).href;
  const w = new Worker(`import { register } from 'tsx/esm/api'; register(); await import(${JSON.stringify(entry)});`, { eval: true, workerData: o });
  return new Promise((resolve, reject) => {
    w.once('message', (m: { ok: true; r: PacedResult } | { ok: false; error: string }) => {
      void w.terminate();
      if (m.ok) resolve(m.r);
      else reject(new Error(m.error));
    });
    w.once('error', reject);
  });
}

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
const dropsText = (d: Record<string, Record<string, number>>) =>
  Object.entries(d).filter(([, r]) => sum(r) > 0).map(([v, r]) => `${v}: ${Object.entries(r).map(([k, n]) => `${k} ${n}`).join(', ')}`).join('; ') || 'none';

async function benchCurrency(server: { url: string }, currency: Currency, figures: Figure[]): Promise<void> {
  const cap = await capture(server.url.replace(/^http/, 'ws'), currency, CAPTURE_MS);
  const spanS = cap.spanMs / 1000;
  const c = currency;

  // 1. Per venue, unpaced, fresh host per pass.
  for (const venue of VENUES) {
    const frames = cap.frames.filter((f) => f.venue === venue);
    if (frames.length === 0) throw new Error(`${venue} ${c}: nothing captured`);
    let best = Infinity;
    let dropped = 0;
    for (let pass = 0; pass < 3; pass++) {
      const r = await unpaced(cap, [venue], frames);
      best = Math.min(best, r.ms);
      dropped = r.dropped;
      r.dispose();
    }
    let bestParse = Infinity;
    for (let pass = 0; pass < 3; pass++) bestParse = Math.min(bestParse, jsonParseMs(frames));
    const pathRate = (frames.length * 1000) / best;
    const parseRate = (frames.length * 1000) / bestParse;
    const realRate = frames.length / spanS;
    figures.push({ name: `${c} ${venue}: frames/s at the venue's real rate`, value: realRate, unit: 'frames/s' });
    figures.push({ name: `${c} ${venue}: frames/s ingested (feed + validation + store)`, value: pathRate, unit: 'frames/s' });
    figures.push({ name: `${c} ${venue}: frames/s bare JSON.parse`, value: parseRate, unit: 'frames/s' });
    figures.push({ name: `${c} ${venue}: ratio ingested / JSON.parse`, value: pathRate / parseRate, unit: 'x' });
    figures.push({ name: `${c} ${venue}: ingest at the real rate, share of one core`, value: realRate / pathRate, unit: 'fraction' });
    figures.push({ name: `${c} ${venue}: frames dropped (every frame applied)`, value: dropped, unit: 'count' });
  }

  // Reference: every frame of the capture applied in order, all four venues.
  const ref = await unpaced(cap, VENUES, cap.frames);
  await new Promise((r) => setTimeout(r, 300));
  const reference = finalFigures(ref.last() ?? undefined);
  ref.dispose();

  // 2. All four at their real rates, in a worker thread.
  const real = await paced({ cap, venues: VENUES, speed: 1, fromMs: 0, toMs: REAL_RUN_MS, warmupMs: 2_000 });
  figures.push({ name: `${c} all four at real rates: worker CPU share`, value: real.cpuShare, unit: `of one core, thread CPU time (target < ${CPU_TARGET})` });
  figures.push({ name: `${c} all four at real rates: worker busy share`, value: real.busyShare, unit: 'of wall time (ELU; other processes inflate it)' });
  figures.push({ name: `${c} all four at real rates: frames/s`, value: sum(real.framesPerSec), unit: Object.entries(real.framesPerSec).map(([v, n]) => `${v} ${Math.round(n)}`).join(', ') });
  figures.push({ name: `${c} all four at real rates: results/s`, value: real.resultsPerSec, unit: '1/s (at most 4)' });
  figures.push({ name: `${c} all four at real rates: frame -> result p50`, value: real.latencyP50, unit: 'ms' });
  figures.push({ name: `${c} all four at real rates: frame -> result p99`, value: real.latencyP99, unit: 'ms' });
  figures.push({ name: `${c} all four at real rates: frames dropped`, value: sum(Object.fromEntries(Object.entries(real.dropped).map(([v, r]) => [v, sum(r)]))), unit: dropsText(real.dropped) });

  // 4. Flood: every frame ten times, at the real rates, against every frame of that window applied once.
  const windowRef = await unpaced(cap, VENUES, cap.frames.filter((f) => f.t < REAL_RUN_MS));
  await new Promise((r) => setTimeout(r, 300));
  const floodReference = finalFigures(windowRef.last() ?? undefined);
  windowRef.dispose();
  const flood = await paced({ cap, venues: VENUES, speed: 1, fromMs: 0, toMs: REAL_RUN_MS, warmupMs: 2_000, copies: 10 });
  figures.push({ name: `${c} all four flooded x10: worker CPU share`, value: flood.cpuShare, unit: 'of one core, thread CPU time' });
  figures.push({ name: `${c} all four flooded x10: results/s`, value: flood.resultsPerSec, unit: '1/s (at most 4)' });
  figures.push({ name: `${c} all four flooded x10: frame -> result p99`, value: flood.latencyP99, unit: 'ms' });
  figures.push({ name: `${c} all four flooded x10: copies dropped (counted)`, value: sum(Object.fromEntries(Object.entries(flood.dropped).map(([v, r]) => [v, sum(r)]))), unit: dropsText(flood.dropped) });
  const floodSame = floodReference !== null && flood.final !== null && JSON.stringify(floodReference) === JSON.stringify(flood.final);
  figures.push({ name: `${c} all four flooded x10: final figures = each frame applied once (1 yes)`, value: floodSame && flood.lastResultCurrent ? 1 : 0, unit: floodSame ? 'same' : `DIFFERENT ${JSON.stringify(floodReference).slice(0, 120)} vs ${JSON.stringify(flood.final).slice(0, 120)}` });

  // 3. 10x: the whole capture at ten times the rate.
  const x10 = await paced({ cap, venues: VENUES, speed: 10, fromMs: 0, toMs: Infinity, warmupMs: 500 });
  figures.push({ name: `${c} all four at 10x: worker CPU share`, value: x10.cpuShare, unit: 'of one core, thread CPU time' });
  figures.push({ name: `${c} all four at 10x: worker busy share`, value: x10.busyShare, unit: 'of wall time (ELU)' });
  figures.push({ name: `${c} all four at 10x: frames/s`, value: sum(x10.framesPerSec), unit: 'frames/s' });
  figures.push({ name: `${c} all four at 10x: results/s`, value: x10.resultsPerSec, unit: '1/s (at most 4)' });
  figures.push({ name: `${c} all four at 10x: frame -> result p50`, value: x10.latencyP50, unit: 'ms' });
  figures.push({ name: `${c} all four at 10x: frame -> result p99`, value: x10.latencyP99, unit: 'ms' });
  figures.push({ name: `${c} all four at 10x: frames dropped (counted)`, value: sum(Object.fromEntries(Object.entries(x10.dropped).map(([v, r]) => [v, sum(r)]))), unit: dropsText(x10.dropped) });
  const same = reference !== null && x10.final !== null && JSON.stringify(reference) === JSON.stringify(x10.final);
  figures.push({ name: `${c} all four at 10x: final figures = every frame applied (1 yes)`, value: same && x10.lastResultCurrent ? 1 : 0, unit: same ? 'same' : `DIFFERENT ${JSON.stringify(reference).slice(0, 120)} vs ${JSON.stringify(x10.final).slice(0, 120)}` });
}

export async function run(): Promise<Figure[]> {
  const figures: Figure[] = [];
  const server = await startServer({ source: 'sim', seed: 4242, speed: 1, port: 0, startMs: Date.UTC(2026, 11, 1, 12), log: () => undefined });
  try {
    for (const c of ['BTC', 'ETH'] as const) await benchCurrency(server, c, figures);
  } finally {
    await server.close();
  }
  return figures;
}
