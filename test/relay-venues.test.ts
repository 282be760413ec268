/**
 * Issue 16: OKX, Bybit and Binance through the live relay. Each venue's real client (as the page runs
 * it) against a relay of the simulator builds the same chain as against the simulator: instrument
 * discovery over the relay's REST side (cached), options with IV, forward and open interest, the
 * perpetual's book (OKX's snapshot over REST, answered from the relay's fold).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.ts';
import { ChainStore } from '../src/chain/store.ts';
import { feedUrl } from '../src/feeds/registry.ts';
import { okxAdapter } from '../src/feeds/okx/index.ts';
import { bybitAdapter } from '../src/feeds/bybit/index.ts';
import { binanceAdapter } from '../src/feeds/binance/index.ts';
import type { FeedEvent, FeedSink, VenueAdapter } from '../src/feeds/adapter.ts';
import type { PerpQuote } from '../src/chain/model.ts';
import { realClock, waitFor, wsFactory } from './harness.ts';

interface Screen {
  store: ChainStore;
  perp: PerpQuote | null;
  events: FeedEvent[];
}

function screenSink(out: Screen): FeedSink {
  return {
    instruments: (_v, _c, list, complete) => void out.store.upsertInstruments(list, complete),
    options: (_v, u) => void out.store.applyOptions(u),
    forwards: (_v, _c, u) => void out.store.applyForwards(u),
    index: () => undefined,
    perp: (q) => void (out.perp = q),
    trades: () => undefined,
    status: (_v, e) => void out.events.push(e),
  };
}

function withData(store: ChainStore): number {
  const c = store.columns();
  let n = 0;
  for (let i = 0; i < c.length; i++) if (Number.isFinite(c.markIv[i]) && Number.isFinite(c.openInterest[i])) n++;
  return n;
}

describe('OKX, Bybit and Binance through the relay', () => {
  let sim: RunningServer;
  let relay: RunningServer;

  beforeAll(async () => {
    sim = await startServer({ source: 'sim', seed: 42, port: 0, log: () => undefined });
    relay = await startServer({ source: 'live', port: 0, log: () => undefined, relay: { upstreamBase: sim.url.replace(/^http/, 'ws'), graceMs: 5_000 } });
  });

  afterAll(async () => {
    await relay?.close();
    await sim?.close();
  });

  const cases: { adapter: VenueAdapter; book: boolean }[] = [
    { adapter: okxAdapter, book: true },
    { adapter: bybitAdapter, book: true },
    { adapter: binanceAdapter, book: true },
  ];
  for (const { adapter, book } of cases) {
    it(`${adapter.label}: three screens build the chain a direct screen builds, on one upstream connection set`, async () => {
      const make = (base: string) => {
        const out: Screen = { store: new ChainStore(adapter.id, 'BTC'), perp: null, events: [] };
        const feed = adapter.createFeed({ url: feedUrl(adapter, base), currency: 'BTC', clock: realClock, socketFactory: wsFactory, sink: screenSink(out) });
        feed.start();
        return { out, feed };
      };
      const direct = make(sim.url.replace(/^http/, 'ws'));
      const relayed = [0, 1, 2].map(() => make(relay.url.replace(/^http/, 'ws')));
      try {
        await waitFor(`${adapter.label} direct chain`, () => withData(direct.out.store) > 50, 30_000);
        for (const r of relayed) await waitFor(`${adapter.label} relayed chain`, () => withData(r.out.store) > 50, 30_000);
        // the same listing, line for line
        const names = (s: ChainStore) => {
          const c = s.columns();
          return Array.from({ length: c.length }, (_, i) => `${c.expiryMs[i]} ${c.strike[i]} ${c.isCall?.[i] ?? ''}`).sort();
        };
        for (const r of relayed) expect(names(r.out.store)).toEqual(names(direct.out.store));
        if (book) for (const r of relayed) await waitFor(`${adapter.label} perp book`, () => (r.out.perp?.bestBid ?? null) !== null, 20_000);
        const info = ((await (await fetch(`${relay.url}/__gexdesk/info`)).json()) as { relay: Record<string, { connects: number; connections: number; upstream: Record<string, unknown> }> }).relay[adapter.id];
        expect(Object.keys(info.upstream)).toEqual(['BTC']);
        // one currency's client upstream: the simulator holds the direct screen's sockets and as many of
        // the relay's, whatever the number of relayed screens
        expect(info.connects).toBe(info.connections);
        expect(sim.venues.hubs.get(adapter.id)!.sessions.size).toBe(2 * info.connections);
      } finally {
        direct.feed.stop();
        for (const r of relayed) r.feed.stop();
      }
    }, 60_000);
  }
});
