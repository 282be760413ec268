/**
 * Shared setup for the integration tests that drive the EngineHost (Node, `ws` sockets) against the
 * local simulator server: start a server + host pair ("run"), wait on conditions, flip fault switches,
 * freeze two runs at the same simulated instant and compare their figures (reliability §5.0 "Reference
 * figures": same seed with and without the fault, equal within 1e-9 relative).
 *
 * Timing on a loaded machine: tests judge from records (the server's request log, the host's posted
 * results and health messages, the chain store's log of what the host applied with its venue stamps),
 * and wait for observable conditions with generous bounds instead of sleeping a fixed time (./wait.ts,
 * re-exported here).
 */
import { expect } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer, type ServerOptions } from '../server/server.ts';
import { EngineHost, type EngineHostOptions } from '../src/worker/host.ts';
import { ChainStore } from '../src/chain/store.ts';
import { STEP_MS } from '../server/sim/market.ts';
import { waitFor } from './wait.ts';
import type { ForwardUpdate, OptionInstrument, OptionLineUpdate } from '../src/chain/model.ts';
import type { Clock, SocketLike } from '../src/feeds/adapter.ts';
import type { DeribitFeedOptions } from '../src/feeds/deribit/index.ts';
import { SELECTION_DEFAULTS, type FeedHealth, type FeedState, type FromWorker, type ResultMessage, type ViewSelection } from '../src/worker/protocol.ts';

export { sleep, waitFor, staysFor, settled, countOver } from './wait.ts';

/** Summary (OI) refresh used by the integration tests instead of 30 s. */
export const TEST_SUMMARY_REFRESH_MS = 2_000;

/**
 * What the integration tests ask of the venue feeds: Deribit's heartbeat every second (liveness 7 s, so
 * faults show in seconds) and its book summary (OI) every 2 s, so a host that has seen a paused market
 * for a few seconds holds exactly the state of that instant.
 */
export const TEST_FEED_OPTIONS: Pick<DeribitFeedOptions, 'heartbeatSec' | 'summaryRefreshMs'> = { heartbeatSec: 1, summaryRefreshMs: TEST_SUMMARY_REFRESH_MS };

/** Real time: the feeds' timers are shortened through their options (TEST_FEED_OPTIONS), not here. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export const wsFactory = (url: string) => new WebSocket(url, { perMessageDeflate: false }) as unknown as SocketLike;

export const btcSelection: ViewSelection = {
  source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS,
};

/** One applyOptions / applyForwards call as the host made it, with the store's verdict. */
export interface ApplyRecord {
  /** Wall time of the call. */
  atMs: number;
  kind: 'options' | 'forwards';
  updates: number;
  /** Updates carrying a finite value of each field. */
  iv: number;
  fwd: number;
  oi: number;
  /** Venue stamps carried by the updates. */
  oldestMs: number;
  newestMs: number;
  /** Lines changed; options updates refused as older than what the line holds. */
  applied: number;
  stale: number;
}

const isNum = (x: unknown): boolean => typeof x === 'number' && Number.isFinite(x);

/**
 * A ChainStore that keeps a record of what the host applied to it: every call with its venue stamps
 * and verdict (`applies`), and per line the newest stamp passed for IV, forward and OI, so a test can
 * wait until the chain holds a given venue instant instead of sleeping.
 */
export class RecordingStore extends ChainStore {
  /** Bounded (the oldest half goes past 40 000 entries). */
  readonly applies: ApplyRecord[] = [];
  /** Newest stamp passed per listed line: [IV, forward, OI]. */
  private readonly stamps = new Map<string, [number, number, number]>();
  private readonly expiryForwardStamp = new Map<number, number>();

  override upsertInstruments(list: readonly OptionInstrument[], complete: boolean): { added: number; removed: number } {
    // A line listed (again) starts without data; forget what an earlier listing of the name held.
    for (const ins of list) if (this.indexOf(ins.name) === undefined) this.stamps.delete(ins.name);
    return super.upsertInstruments(list, complete);
  }

  override applyOptions(updates: readonly OptionLineUpdate[]): { applied: number; stale: number; unknown: number } {
    let iv = 0;
    let fwd = 0;
    let oi = 0;
    let oldestMs = Infinity;
    let newestMs = -Infinity;
    for (const u of updates) {
      const ts = u.timestampMs;
      if (!isNum(ts)) continue;
      if (ts < oldestMs) oldestMs = ts;
      if (ts > newestMs) newestMs = ts;
      const hasIv = isNum(u.markIv);
      const hasFwd = isNum(u.forward);
      const hasOi = isNum(u.openInterest);
      if (hasIv) iv++;
      if (hasFwd) fwd++;
      if (hasOi) oi++;
      if (this.indexOf(u.name) === undefined) continue;
      let s = this.stamps.get(u.name);
      if (!s) this.stamps.set(u.name, (s = [-Infinity, -Infinity, -Infinity]));
      if (hasIv && ts > s[0]) s[0] = ts;
      if (hasFwd && ts > s[1]) s[1] = ts;
      if (hasOi && ts > s[2]) s[2] = ts;
    }
    const r = super.applyOptions(updates);
    this.log({ atMs: Date.now(), kind: 'options', updates: updates.length, iv, fwd, oi, oldestMs, newestMs, applied: r.applied, stale: r.stale });
    return r;
  }

  override applyForwards(updates: readonly ForwardUpdate[]): number {
    let oldestMs = Infinity;
    let newestMs = -Infinity;
    let fwd = 0;
    for (const u of updates) {
      if (!isNum(u.forward) || !isNum(u.timestampMs)) continue;
      fwd++;
      oldestMs = Math.min(oldestMs, u.timestampMs);
      newestMs = Math.max(newestMs, u.timestampMs);
      if (u.timestampMs > (this.expiryForwardStamp.get(u.expiryMs) ?? -Infinity)) this.expiryForwardStamp.set(u.expiryMs, u.timestampMs);
    }
    const n = super.applyForwards(updates);
    this.log({ atMs: Date.now(), kind: 'forwards', updates: updates.length, iv: 0, fwd, oi: 0, oldestMs, newestMs, applied: n, stale: 0 });
    return n;
  }

  /**
   * Whether the chain holds venue instant `stampMs`: every line with an IV, forward or OI got that
   * field from an update stamped at or after it (the store keeps the newest per field, so it holds data
   * of that instant or later).
   */
  heldSince(stampMs: number): boolean {
    const c = this.columns();
    if (c.length === 0) return false;
    const byLine: ([number, number, number] | undefined)[] = new Array(c.length);
    for (const [name, s] of this.stamps) {
      const i = this.indexOf(name);
      if (i !== undefined) byLine[i] = s;
    }
    for (let i = 0; i < c.length; i++) {
      const s = byLine[i];
      if (Number.isFinite(c.markIv[i]) && !(s && s[0] >= stampMs)) return false;
      if (Number.isFinite(c.openInterest[i]) && !(s && s[2] >= stampMs)) return false;
      const fwdStamp = Math.max(s ? s[1] : -Infinity, this.expiryForwardStamp.get(c.expiryMs[i]) ?? -Infinity);
      if (Number.isFinite(c.forward[i]) && !(fwdStamp >= stampMs)) return false;
    }
    return true;
  }

  private log(rec: ApplyRecord): void {
    if (this.applies.length >= 40_000) this.applies.splice(0, 20_000);
    this.applies.push(rec);
  }
}

/** POST to the server's control endpoints (/__sim/fault, /__sim/clear, /__sim/pause, /__sim/resume). */
export async function post(server: RunningServer, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${path} ${res.status}: ${JSON.stringify(json)}`);
  return json;
}

export interface RunOptions {
  seed: number;
  startMs: number;
  speed?: number;
  selection?: ViewSelection;
  /** Ack every result at once (a page that paints everything); default true. */
  autoAck?: boolean;
  /**
   * A server this run's screen connects to instead of a simulator of its own (a relay, or a simulator
   * shared by several runs): not closed with the run. `server` below is then that one.
   */
  via?: RunningServer;
  /** Host options: feed options over TEST_FEED_OPTIONS, stale after 2 s by default, so faults show in seconds. */
  host?: Partial<Pick<EngineHostOptions, 'staleAfterMs' | 'feedOptions' | 'minIntervalMs' | 'clock' | 'downAfterMs' | 'socketFactory' | 'compute' | 'tapeStorage'>>;
  /** The simulator's trading knobs (set before the host connects). */
  trades?: ServerOptions['trades'];
}

export interface Run {
  server: RunningServer;
  host: EngineHost;
  /** Every message the host posted, in order (tests may truncate it). */
  posted: FromWorker[];
  /** Every chain store the host created (the live one is the last), with its record of applied updates. */
  stores: RecordingStore[];
  /** Distinct consecutive health states of the first feed, sampled every 20 ms. */
  states: FeedState[];
  results(): ResultMessage[];
  lastResult(): ResultMessage | undefined;
  /** A fresh, ungated result via the `snapshot` request. */
  snapshot(): ResultMessage;
  close(): Promise<void>;
}

let requestId = 10_000;

export async function startRun(o: RunOptions): Promise<Run> {
  const server = o.via ?? (await startServer({ source: 'sim', seed: o.seed, speed: o.speed ?? 1, port: 0, startMs: o.startMs, log: () => undefined, trades: o.trades }));
  const base = server.url.replace(/^http/, 'ws');
  const posted: FromWorker[] = [];
  const autoAck = o.autoAck ?? true;
  const stores: RecordingStore[] = [];
  const host: EngineHost = new EngineHost({
    clock: o.host?.clock ?? realClock,
    socketFactory: o.host?.socketFactory ?? wsFactory,
    localBase: base,
    feedOptions: { ...TEST_FEED_OPTIONS, ...o.host?.feedOptions },
    staleAfterMs: o.host?.staleAfterMs ?? 2_000,
    minIntervalMs: o.host?.minIntervalMs,
    downAfterMs: o.host?.downAfterMs,
    compute: o.host?.compute,
    tapeStorage: o.host?.tapeStorage,
    createStore: (venue, currency) => {
      const st = new RecordingStore(venue, currency);
      stores.push(st);
      return st;
    },
    post: (msg) => {
      posted.push(msg);
      if (autoAck && msg.type === 'result') queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
    },
  });
  host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
  host.handle({ type: 'select', selection: o.selection ?? btcSelection });
  const states: FeedState[] = [];
  const timer = setInterval(() => {
    const s = host.health()[0]?.state;
    if (s && states.at(-1) !== s) states.push(s);
  }, 20);
  const results = () => posted.filter((m): m is ResultMessage => m.type === 'result');
  return {
    server, host, posted, stores, states, results,
    lastResult: () => results().at(-1),
    snapshot: () => {
      const id = ++requestId;
      host.handle({ type: 'request', id, request: { kind: 'snapshot' } });
      const m = posted.find((x) => x.type === 'response' && x.id === id);
      if (!m || m.type !== 'response' || !m.ok) throw new Error(`snapshot failed: ${JSON.stringify(m)}`);
      return m.data as ResultMessage;
    },
    close: async () => {
      clearInterval(timer);
      host.dispose();
      if (!o.via) await server.close();
    },
  };
}

/** Wait until the run has a result with a built chain. */
export function chainBuilt(r: Run, timeoutMs = 15_000): Promise<ResultMessage> {
  return waitFor('chain built', () => r.results().find((m) => m.gex.includedLines > 100), timeoutMs);
}

/** The simulator step the market stands at when its clock reads `clockMs` (Deribit stamps are step times). */
export function frozenStep(server: RunningServer, clockMs: number): number {
  const start = server.sim!.startMs;
  return start + Math.floor((clockMs - start) / STEP_MS) * STEP_MS;
}

/**
 * Pause every server's simulator and move all their clocks to one instant, one step past the latest of
 * them, so no frame sent before the freeze carries the frozen instant (a host that holds it has data
 * sent after the freeze). Returns the frozen clock instant.
 */
export async function freeze(servers: RunningServer[]): Promise<number> {
  for (const s of servers) await post(s, '/__sim/pause');
  const t = Math.max(...servers.map((s) => s.clock.now())) + STEP_MS;
  for (const s of servers) s.clock.jumpTo(t);
  return t;
}

/**
 * Wait until each run's host holds venue instant `stepMs` and has posted figures of it: every line of
 * the live store got its IV, forward and OI from updates stamped at or after it (with Deribit the OI
 * of every line comes only from the book summary, whose answer also carries the index), then a result
 * computed after that, valued at or after it, with perp quotes at or after it. Returns those results.
 */
export async function waitSettled(runs: Run[], stepMs: number, timeoutMs = 30_000): Promise<ResultMessage[]> {
  const out: ResultMessage[] = [];
  for (const r of runs) {
    await waitFor(`the chain to hold venue time ${stepMs}`, () => r.stores.at(-1)?.heldSince(stepMs), timeoutMs);
    const heldAt = Date.now();
    out.push(await waitFor(`a result of venue time ${stepMs} computed after it`, () => {
      const rs = r.results();
      for (let k = rs.length - 1; k >= 0 && rs[k].computedAtMs >= heldAt; k--) {
        const m = rs[k];
        if (m.gex.nowMs >= stepMs && m.perps.every((p) => p.timestampMs >= stepMs)) return m;
      }
      return null;
    }, timeoutMs));
  }
  return out;
}

/**
 * Freeze every run's simulator at one common instant (`freeze`) and, unless `settleTimeoutMs` is 0
 * (the caller judges the settle itself), wait until every host holds that instant (`waitSettled`),
 * failing after `settleTimeoutMs`. Returns the common clock instant.
 */
export async function pauseAligned(runs: Run[], settleTimeoutMs = 30_000): Promise<number> {
  const t = await freeze(runs.map((r) => r.server));
  if (settleTimeoutMs > 0) await waitSettled(runs, frozenStep(runs[0].server, t), settleTimeoutMs);
  return t;
}

export async function resumeAll(runs: Run[]): Promise<void> {
  for (const r of runs) await post(r.server, '/__sim/resume');
}

/** Largest relative difference between two arrays (0 when equal). */
export function maxRelDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) {
    const x = a[k];
    const y = b[k];
    if (x === y) continue;
    m = Math.max(m, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300));
  }
  return m;
}

/**
 * The figures a trader reads equal the reference: valuation time, spot, the included lines, net GEX by
 * strike and the zero-gamma level, within 1e-9 relative.
 */
export function expectSameFigures(a: ResultMessage, ref: ResultMessage): void {
  expect(a.gex.nowMs).toBe(ref.gex.nowMs);
  expect(a.gex.spot).toBe(ref.gex.spot);
  expect(a.gex.includedLines).toBe(ref.gex.includedLines);
  expect(ref.gex.includedLines).toBeGreaterThan(100);
  expect(Array.from(a.gex.strikes)).toEqual(Array.from(ref.gex.strikes));
  expect(maxRelDiff(a.gex.netGex, ref.gex.netGex)).toBeLessThan(1e-9);
  expect(Math.abs(a.gex.totalNetGex - ref.gex.totalNetGex)).toBeLessThanOrEqual(1e-9 * Math.abs(ref.gex.totalNetGex));
  expect(ref.gex.zeroGammaLevel).not.toBeNull();
  expect(Math.abs(a.gex.zeroGammaLevel! - ref.gex.zeroGammaLevel!)).toBeLessThanOrEqual(1e-9 * ref.gex.zeroGammaLevel!);
}

/** Sessions that said hello to the run's Deribit endpoint, from the server's request log. */
export const helloSessions = (r: Run): Set<number> =>
  new Set(r.server.hub.requestLog.filter((x) => x.method === 'public/hello').map((x) => x.sessionId));

/** The health messages the host posted after wall time `afterMs` (first feed), in order. */
export function healthSince(r: Run, afterMs: number): { atMs: number; feed: FeedHealth }[] {
  const out: { atMs: number; feed: FeedHealth }[] = [];
  for (const m of r.posted) if (m.type === 'health' && m.atMs > afterMs && m.feeds[0]) out.push({ atMs: m.atMs, feed: m.feeds[0] });
  return out;
}

/**
 * Messages per second over a run of consecutive health messages: each reports the rate of the window
 * since the one before, so the first only opens the span.
 */
export function rateOver(health: { atMs: number; feed: FeedHealth }[]): number {
  let msgs = 0;
  for (let k = 1; k < health.length; k++) msgs += health[k].feed.messagesPerSec * (health[k].atMs - health[k - 1].atMs);
  const span = health.length > 1 ? health.at(-1)!.atMs - health[0].atMs : 0;
  return span > 0 ? msgs / span : 0;
}

/** Sum of a counter record. */
export const total = (c: Record<string, number>) => Object.values(c).reduce((s, n) => s + n, 0);
