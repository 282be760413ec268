/**
 * Issue 4 integration: each added venue's real client (created through its adapter, as the host does)
 * against the local server's simulator builds a chain in a ChainStore with plausible IV, forward and
 * open interest in coin, plus a perpetual quote with depth.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startServer, type RunningServer } from '../server/server.ts';
import { ChainStore } from '../src/chain/store.ts';
import { feedUrl } from '../src/feeds/registry.ts';
import { okxAdapter } from '../src/feeds/okx/index.ts';
import { bybitAdapter } from '../src/feeds/bybit/index.ts';
import { binanceAdapter } from '../src/feeds/binance/index.ts';
import type { Clock, FeedEvent, FeedSink, SocketLike, VenueAdapter } from '../src/feeds/adapter.ts';
import type { Currency, PerpQuote } from '../src/chain/model.ts';

/** Now: the clients drop expiries before their own (wall) clock, so the simulated market starts now. */
const START_MS = Math.floor(Date.now() / 1000) * 1000;
const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
const wsFactory = (url: string) => new WebSocket(url, { perMessageDeflate: false }) as unknown as SocketLike;

interface Collected {
  store: ChainStore;
  spot: number | null;
  perp: PerpQuote | null;
  events: FeedEvent[];
  complete: boolean;
}

/** A sink that keeps one venue's chain the way the host does. */
function collectingSink(store: ChainStore, out: Collected): FeedSink {
  return {
    instruments: (_v, _c, list, complete) => {
      store.upsertInstruments(list, complete);
      out.complete ||= complete;
    },
    options: (_v, u) => void store.applyOptions(u),
    forwards: (_v, _c, u) => void store.applyForwards(u),
    index: (_v, _c, price) => void (out.spot = price),
    perp: (q) => void (out.perp = q),
    trades: () => undefined,
    status: (_v, e) => void out.events.push(e),
  };
}

async function waitFor<T>(what: string, probe: () => T | null | undefined | false, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function linesWith(store: ChainStore): { iv: number; oi: number; fwd: number; n: number } {
  const c = store.columns();
  let iv = 0;
  let oi = 0;
  let fwd = 0;
  for (let i = 0; i < c.length; i++) {
    if (Number.isFinite(c.markIv[i])) iv++;
    if (Number.isFinite(c.openInterest[i])) oi++;
    if (Number.isFinite(c.forward[i])) fwd++;
  }
  return { iv, oi, fwd, n: c.length };
}

/** Coin per contract of every line (OKX: 0.1 on the coin-margined family, 0.01 on the USD-margined one). */
const cases: { adapter: VenueAdapter; currency: Currency; forwards: boolean; perpOi: boolean; multipliers: number[]; depth: boolean }[] = [
  { adapter: okxAdapter, currency: 'BTC', forwards: true, perpOi: true, multipliers: [0.1, 0.01], depth: true },
  { adapter: bybitAdapter, currency: 'ETH', forwards: true, perpOi: true, multipliers: [1], depth: true },
  { adapter: binanceAdapter, currency: 'BTC', forwards: false, perpOi: false, multipliers: [1], depth: false },
];

describe('added venues against the local simulator (real clients through their adapters)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 20260114, port: 0, startMs: START_MS, log: () => undefined });
  });
  afterAll(async () => server?.close());

  for (const tc of cases) {
    it(`${tc.adapter.label} ${tc.currency}: chain with IV, ${tc.forwards ? 'forwards, ' : ''}OI in coin, and a perp quote`, async () => {
      const store = new ChainStore(tc.adapter.id, tc.currency);
      const out: Collected = { store, spot: null, perp: null, events: [], complete: false };
      const feed = tc.adapter.createFeed({
        url: feedUrl(tc.adapter, server.url.replace(/^http/, 'ws')),
        currency: tc.currency,
        clock: realClock,
        socketFactory: wsFactory,
        sink: collectingSink(store, out),
      });
      feed.start();
      try {
        await waitFor('IV and OI on most lines', () => {
          const l = linesWith(store);
          return l.n > 50 && l.iv > 0.9 * l.n && l.oi > 0.9 * l.n && out.perp !== null && out.perp.bestBid !== null && (!tc.depth || out.perp.depth.length > 0) && out.spot !== null;
        }, 12_000).catch((e: unknown) => {
          throw new Error(`${String(e)}: ${JSON.stringify({ lines: linesWith(store), spot: out.spot, perp: out.perp, complete: out.complete, events: out.events.filter((e) => e.kind !== "data" && e.kind !== "subscribed").slice(0, 12), subs: out.events.filter((e) => e.kind === "subscribed").length })}`);
        });
        const sim = server.sim!;
        const spot = sim.index(tc.currency);
        expect(Math.abs(out.spot! / spot - 1)).toBeLessThan(0.01);
        const c = store.columns();
        let oiCoin = 0;
        let deribitCoin = 0;
        const simNames = new Set(sim.instruments(tc.currency).map((d) => `${d.expiryMs}:${d.strike}:${d.isCall}`));
        for (let i = 0; i < c.length; i++) {
          expect(tc.multipliers).toContain(c.multiplier[i]);
          expect(simNames.has(`${c.expiryMs[i]}:${c.strike[i]}:${c.isCall[i] === 1}`)).toBe(true);
          if (Number.isFinite(c.markIv[i])) {
            expect(c.markIv[i]).toBeGreaterThan(0.1);
            expect(c.markIv[i]).toBeLessThan(3);
          }
          if (tc.forwards && Number.isFinite(c.forward[i])) {
            expect(c.forward[i] / spot).toBeGreaterThan(0.98);
            expect(c.forward[i] / spot).toBeLessThan(1.25);
          }
          if (Number.isFinite(c.openInterest[i])) oiCoin += c.openInterest[i] * c.multiplier[i];
        }
        for (const d of sim.instruments(tc.currency)) deribitCoin += sim.openInterest(d);
        if (tc.forwards) expect(linesWith(store).fwd).toBeGreaterThan(0.9 * c.length);
        // each venue's OI is its own, smaller than Deribit's, in coin
        expect(oiCoin).toBeGreaterThan(0.02 * deribitCoin);
        expect(oiCoin).toBeLessThan(0.5 * deribitCoin);
        const p = out.perp!;
        expect(p.venue).toBe(tc.adapter.id);
        expect(Math.abs(p.markPrice / spot - 1)).toBeLessThan(0.01);
        expect(p.bestBid!).toBeLessThan(p.bestAsk!);
        expect(p.funding8h === null || Math.abs(p.funding8h) < 0.01).toBe(true);
        if (tc.perpOi) expect(p.openInterestCoin!).toBeGreaterThan(0);
        // Binance's top-20 book spans well under 0.5 %: no band is reported rather than a partial sum
        if (tc.depth) expect(p.depth[0].bidCoin).toBeGreaterThan(0);
        else expect(p.depth).toEqual([]);
        const dropped = out.events.filter((e) => e.kind === 'dropped');
        expect(dropped).toEqual([]);
      } finally {
        feed.stop();
      }
    }, 20_000);
  }
});
