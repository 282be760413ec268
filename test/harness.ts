/**
 * Shared setup for the integration tests that drive the EngineHost (Node, `ws` sockets) against the
 * local simulator server: start a server + host pair ("run"), wait on conditions, flip fault switches,
 * freeze two runs at the same simulated instant and compare their figures (reliability §5.0 "Reference
 * figures": same seed with and without the fault, equal within 1e-9 relative).
 */
import { expect } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../server/server.ts';
import { EngineHost, type EngineHostOptions } from '../src/worker/host.ts';
import { ChainStore } from '../src/chain/store.ts';
import type { Clock, SocketLike } from '../src/feeds/adapter.ts';
import { DERIBIT_SUMMARY_REFRESH_MS } from '../src/feeds/limits.ts';
import type { FeedState, FromWorker, ResultMessage, ViewSelection } from '../src/worker/protocol.ts';

/** Summary (OI) refresh used by the test clock instead of 30 s. */
export const TEST_SUMMARY_REFRESH_MS = 2_000;

/**
 * Real time, except the 30 s book-summary refresh (OI) runs every 2 s, so a host that has seen a
 * paused market for a few seconds holds exactly the state of that instant.
 */
export const testClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms === DERIBIT_SUMMARY_REFRESH_MS ? TEST_SUMMARY_REFRESH_MS : ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export const wsFactory = (url: string) => new WebSocket(url, { perMessageDeflate: false }) as unknown as SocketLike;

export const btcSelection: ViewSelection = {
  source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2,
};

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs: number, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
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
  /** Host options: default heartbeat 1 s (liveness 7 s) and stale after 2 s, so faults show in seconds. */
  host?: Partial<Pick<EngineHostOptions, 'staleAfterMs' | 'feedOptions' | 'minIntervalMs' | 'clock' | 'downAfterMs'>>;
}

export interface Run {
  server: RunningServer;
  host: EngineHost;
  /** Every message the host posted, in order (tests may truncate it). */
  posted: FromWorker[];
  /** Every chain store the host created (the live one is the last), for size checks. */
  stores: ChainStore[];
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
  const server = await startServer({ source: 'sim', seed: o.seed, speed: o.speed ?? 1, port: 0, startMs: o.startMs, log: () => undefined });
  const base = server.url.replace(/^http/, 'ws');
  const posted: FromWorker[] = [];
  const autoAck = o.autoAck ?? true;
  const stores: ChainStore[] = [];
  const host: EngineHost = new EngineHost({
    clock: o.host?.clock ?? testClock,
    socketFactory: wsFactory,
    localBase: base,
    feedOptions: o.host?.feedOptions ?? { heartbeatSec: 1 },
    staleAfterMs: o.host?.staleAfterMs ?? 2_000,
    minIntervalMs: o.host?.minIntervalMs,
    downAfterMs: o.host?.downAfterMs,
    createStore: (venue, currency) => {
      const st = new ChainStore(venue, currency);
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
      await server.close();
    },
  };
}

/** Wait until the run has a result with a built chain. */
export function chainBuilt(r: Run, timeoutMs = 15_000): Promise<ResultMessage> {
  return waitFor('chain built', () => r.results().find((m) => m.gex.includedLines > 100), timeoutMs);
}

/**
 * Freeze every run's simulator at one common instant (the latest of their clocks) and give the hosts
 * time to see it: markprice arrives about every second and the summary (OI) every 2 s under testClock.
 */
export async function pauseAligned(runs: Run[], settleMs = 4_500): Promise<number> {
  for (const r of runs) await post(r.server, '/__sim/pause');
  const t = Math.max(...runs.map((r) => r.server.clock.now()));
  for (const r of runs) r.server.clock.jumpTo(t);
  await sleep(settleMs);
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

/** Sum of a counter record. */
export const total = (c: Record<string, number>) => Object.values(c).reduce((s, n) => s + n, 0);
