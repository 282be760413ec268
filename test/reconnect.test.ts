/**
 * Issue 5/6 (reliability §5 tests 1 and 2) through the EngineHost and the real Deribit feed: the server
 * drops the connection, then goes silent; the client reconnects and resubscribes, health shows
 * reconnecting/stale in between and connected after, and the figures after recovery equal those of an
 * uninterrupted run (a twin server with the same seed and start, never faulted) at the same sim time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../server/server.ts';
import { EngineHost } from '../src/worker/host.ts';
import type { Clock, SocketLike } from '../src/feeds/adapter.ts';
import { DERIBIT_SUMMARY_REFRESH_MS } from '../src/feeds/limits.ts';
import type { FeedState, FromWorker, ResultMessage, ViewSelection } from '../src/worker/protocol.ts';

const START_MS = Date.UTC(2026, 2, 3, 6, 30, 0);
const SEED = 777;

/** Real time, except the 30 s book-summary refresh (OI) runs every 2 s (see worker-sim.test.ts). */
const testClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms === DERIBIT_SUMMARY_REFRESH_MS ? 2_000 : ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
const wsFactory = (url: string) => new WebSocket(url, { perMessageDeflate: false }) as unknown as SocketLike;
const selection: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2 };

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
const post = (server: RunningServer, path: string, body?: unknown) =>
  fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });

interface Run {
  server: RunningServer;
  host: EngineHost;
  posted: FromWorker[];
  states: FeedState[];
  timer: ReturnType<typeof setInterval>;
}

async function startRun(): Promise<Run> {
  const server = await startServer({ source: 'sim', seed: SEED, speed: 1, port: 0, startMs: START_MS, log: () => undefined });
  const base = server.url.replace(/^http/, 'ws');
  const posted: FromWorker[] = [];
  const host = new EngineHost({
    clock: testClock,
    socketFactory: wsFactory,
    localBase: base,
    // Short thresholds so the test takes seconds: heartbeat 1 s (liveness 7 s), stale after 2 s.
    feedOptions: { heartbeatSec: 1 },
    staleAfterMs: 2_000,
    post: (msg) => {
      posted.push(msg);
      // The page paints everything at once.
      if (msg.type === 'result') queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
    },
  });
  host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
  host.handle({ type: 'select', selection });
  const states: FeedState[] = [];
  const timer = setInterval(() => {
    const s = host.health()[0]?.state;
    if (s && states.at(-1) !== s) states.push(s);
  }, 20);
  return { server, host, posted, states, timer };
}

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) {
    clearInterval(r.timer);
    r.host.dispose();
    await r.server.close();
  }
});

const results = (r: Run) => r.posted.filter((m): m is ResultMessage => m.type === 'result');
/** Connected, with a data message that arrived after `sinceMs`. */
const freshSince = (r: Run, sinceMs: number) => {
  const h = r.host.health()[0];
  return h.state === 'connected' && h.dataAgeMs !== null && h.dataAgeMs < Date.now() - sinceMs;
};

describe('reconnect through the EngineHost', () => {
  it('survives drop and silence, shows it, resubscribes, and recovers to the uninterrupted figures', async () => {
    const faulted = await startRun();
    runs.push(faulted);
    const twin = await startRun();
    runs.push(twin);
    for (const r of [faulted, twin]) {
      await waitFor('chain built', () => results(r).some((m) => m.gex.includedLines > 100), 15_000);
    }
    const sessionsBefore = faulted.server.hub.sessions.size;
    expect(sessionsBefore).toBe(1);
    // The full plan: static channels plus one forward ticker per expiry (subscribed after the listing).
    const forwardTickers = (subs: Set<string>) => [...subs].filter((c) => /^ticker\.BTC-\d+[A-Z]{3}\d\d-/.test(c)).length;
    const nExpiries = results(faulted).at(-1)!.expiries.length;
    await waitFor('all channels subscribed', () => forwardTickers([...faulted.server.hub.sessions][0].subs) >= nExpiries, 5_000);
    const channelsBefore = [...[...faulted.server.hub.sessions][0].subs].sort();
    expect(channelsBefore).toContain('markprice.options.btc_usd');
    expect(channelsBefore).toContain('deribit_price_index.btc_usd');

    // 1. Drop: the socket is terminated; the feed reconnects and resubscribes.
    faulted.states.length = 0;
    await post(faulted.server, '/__sim/fault', { kind: 'drop' });
    const droppedAt = Date.now();
    await waitFor('reconnected with fresh data', () => faulted.host.health()[0].reconnects >= 1 && freshSince(faulted, droppedAt), 10_000);
    expect(faulted.states).toContain('reconnecting');
    await waitFor('resubscribed', () => {
      const s = [...faulted.server.hub.sessions];
      return s.length === 1 && [...s[0].subs].sort().join() === channelsBefore.join();
    }, 5_000);

    // 2. Silent: socket open, nothing sent. Stale after 2 s, then the heartbeat watchdog reconnects.
    faulted.states.length = 0;
    const reconnectsBefore = faulted.host.health()[0].reconnects;
    await post(faulted.server, '/__sim/fault', { kind: 'silent' });
    await waitFor('stale', () => faulted.host.health()[0].state === 'stale', 5_000);
    // With one venue the figures keep their last values and say the venue is stale.
    await waitFor('a result naming the stale venue', () =>
      results(faulted).at(-1)!.excludedVenues.some((v) => v.venue === 'deribit' && v.reason.startsWith('stale')), 3_000);
    await waitFor('reconnect after silence', () => faulted.host.health()[0].reconnects > reconnectsBefore, 15_000);
    await post(faulted.server, '/__sim/clear');
    const clearedAt = Date.now();
    await waitFor('recovered', () => freshSince(faulted, clearedAt), 15_000);
    // connected -> stale (data stopped) -> reconnecting (heartbeat timeout) -> ... -> connected
    expect(faulted.states.indexOf('stale')).toBeGreaterThanOrEqual(0);
    expect(faulted.states.lastIndexOf('reconnecting')).toBeGreaterThan(faulted.states.indexOf('stale'));
    expect(faulted.host.health()[0].state).toBe('connected');
    await waitFor('a result including the venue again', () => {
      const last = results(faulted).at(-1)!;
      return last.excludedVenues.length === 0 && last.includedVenues.includes('deribit');
    }, 3_000);

    // 3. Same sim time on both servers, then compare the figures.
    await post(faulted.server, '/__sim/pause');
    await post(twin.server, '/__sim/pause');
    const t = Math.max(faulted.server.clock.now(), twin.server.clock.now());
    faulted.server.clock.jumpTo(t);
    twin.server.clock.jumpTo(t);
    await new Promise((r) => setTimeout(r, 4_500)); // markprice ~1 s, summary every 2 s here
    const snap = (r: Run) => {
      const id = 1000 + runs.indexOf(r);
      r.host.handle({ type: 'request', id, request: { kind: 'snapshot' } });
      const m = r.posted.find((x) => x.type === 'response' && x.id === id) as Extract<FromWorker, { type: 'response'; ok: true }>;
      return m.data as ResultMessage;
    };
    const a = snap(faulted);
    const b = snap(twin);
    expect(a.gex.nowMs).toBe(b.gex.nowMs);
    expect(a.gex.spot).toBe(b.gex.spot);
    expect(a.gex.includedLines).toBe(b.gex.includedLines);
    expect(a.gex.includedLines).toBeGreaterThan(100);
    expect(Array.from(a.gex.strikes)).toEqual(Array.from(b.gex.strikes));
    let maxRel = 0;
    for (let k = 0; k < a.gex.netGex.length; k++) {
      const x = a.gex.netGex[k];
      const y = b.gex.netGex[k];
      maxRel = Math.max(maxRel, Math.abs(x - y) / Math.max(Math.abs(x), Math.abs(y), 1e-300));
    }
    expect(maxRel).toBeLessThan(1e-9);
    expect(a.gex.zeroGammaLevel).not.toBeNull();
    expect(Math.abs(a.gex.zeroGammaLevel! - b.gex.zeroGammaLevel!)).toBeLessThanOrEqual(1e-9 * b.gex.zeroGammaLevel!);
    // The twin never reconnected.
    expect(twin.host.health()[0].reconnects).toBe(0);
  }, 60_000);
});
