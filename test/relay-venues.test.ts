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
import type { VenueId } from '../src/shared/venues.ts';
import { startNats, type RunningNats } from '../server/testing/nats-server.ts';
import { relaySpec } from '../server/relay/specs.ts';
import { tokenTopic } from '../server/relay/nats.ts';
import { realClock, waitFor, wsFactory } from './harness.ts';
import { connect } from 'nats';

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

const cases: VenueAdapter[] = [okxAdapter, bybitAdapter, binanceAdapter];

/** A screen: the venue's real client on `base`, building its chain. */
function screen(adapter: VenueAdapter, base: string): { out: Screen; feed: { stop(): void } } {
  const out: Screen = { store: new ChainStore(adapter.id, 'BTC'), perp: null, events: [] };
  const feed = adapter.createFeed({ url: feedUrl(adapter, base), currency: 'BTC', clock: realClock, socketFactory: wsFactory, sink: screenSink(out) });
  feed.start();
  return { out, feed };
}

/** The same listing, line for line. */
function lines(s: ChainStore): string[] {
  const c = s.columns();
  return Array.from({ length: c.length }, (_, i) => `${c.expiryMs[i]} ${c.strike[i]} ${c.isCall?.[i] ?? ''}`).sort();
}

/** Screens on `relayed` build the chain and the perp book a screen on `direct` builds. */
async function sameChains(adapter: VenueAdapter, direct: string, relayed: string, screens: number, whileOpen?: () => Promise<void>): Promise<void> {
  const d = screen(adapter, direct);
  const rs = Array.from({ length: screens }, () => screen(adapter, relayed));
  try {
    await waitFor(`${adapter.label} direct chain`, () => withData(d.out.store) > 50, 30_000);
    for (const r of rs) await waitFor(`${adapter.label} relayed chain`, () => withData(r.out.store) > 50, 30_000);
    for (const r of rs) expect(lines(r.out.store)).toEqual(lines(d.out.store));
    for (const r of rs) await waitFor(`${adapter.label} perp book`, () => (r.out.perp?.bestBid ?? null) !== null, 20_000);
    await whileOpen?.();
  } finally {
    d.feed.stop();
    for (const r of rs) r.feed.stop();
  }
}

const ws = (s: { url: string }) => s.url.replace(/^http/, 'ws');

describe('OKX, Bybit and Binance through the relay', () => {
  let sim: RunningServer;
  let relay: RunningServer;

  beforeAll(async () => {
    sim = await startServer({ source: 'sim', seed: 42, port: 0, log: () => undefined });
    relay = await startServer({ source: 'live', port: 0, log: () => undefined, relay: { upstreamBase: ws(sim), graceMs: 5_000 } });
  });

  afterAll(async () => {
    await relay?.close();
    await sim?.close();
  });

  for (const adapter of cases) {
    it(`${adapter.label}: three screens build the chain a direct screen builds, on one upstream connection set`, async () => {
      await sameChains(adapter, ws(sim), ws(relay), 3, async () => {
        const info = ((await (await fetch(`${relay.url}/__gexdesk/info`)).json()) as { relay: Record<string, { connects: number; connections: number; upstream: Record<string, unknown> }> }).relay[adapter.id];
        expect(Object.keys(info.upstream)).toEqual(['BTC']);
        // one currency's client upstream: the simulator holds the direct screen's sockets and as many of
        // the relay's, whatever the number of relayed screens
        expect(info.connects).toBe(info.connections);
        expect(sim.venues.hubs.get(adapter.id)!.sessions.size).toBe(2 * info.connections);
      });
    }, 60_000);
  }
});

describe('OKX, Bybit and Binance through NATS: an edge started after the ingest', () => {
  // the books' state reaches an edge that was not there when it was built: from the stream's last
  // values (a snapshot pushed to the screen where the venue pushes one, the fold read over REST else)
  let nats: RunningNats;
  let sim: RunningServer;
  let ingest: RunningServer;
  let edge: RunningServer;

  beforeAll(async () => {
    nats = await startNats();
    sim = await startServer({ source: 'sim', seed: 42, port: 0, log: () => undefined });
    const venues: VenueId[] = ['okx', 'bybit', 'binance'];
    ingest = await startServer({ source: 'live', port: 0, log: () => undefined, nats: { url: nats.url, role: 'ingest' }, relay: { upstreamBase: ws(sim), venues } });
    // every venue's frames on NATS, and the state of each of its books, before the edge exists
    const nc = await connect({ servers: nats.url.replace('nats://', '') });
    const frames = new Map<string, { venue: string; book: boolean }>();
    const states = new Set<string>();
    const sub = nc.subscribe('gexdesk.*.BTC.*.*', {
      callback: (_e, m) => {
        const [, venue, , kind, token] = m.subject.split('.');
        if (kind === 's') states.add(token);
        else frames.set(token, { venue, book: relaySpec(venue as VenueId).books?.handles(tokenTopic(token)!.key) === true });
      },
    });
    await waitFor('every venue on NATS, books with their state', () => {
      const all = [...frames];
      return venues.every((v) => all.some(([, f]) => f.venue === v)) && all.filter(([, f]) => f.book).length > 0 && all.every(([t, f]) => !f.book || states.has(t));
    }, 30_000);
    sub.unsubscribe();
    await nc.close();
    edge = await startServer({ source: 'live', port: 0, log: () => undefined, nats: { url: nats.url, role: 'edge' }, relay: { venues, graceMs: 5_000 } });
  }, 60_000);

  afterAll(async () => {
    await edge?.close();
    await ingest?.close();
    await sim?.close();
    await nats?.stop();
  });

  for (const adapter of cases) {
    it(`${adapter.label}: a screen on the late edge builds the chain and the perp book a direct screen builds`, async () => {
      await sameChains(adapter, ws(sim), ws(edge), 1);
    }, 60_000);
  }
});
