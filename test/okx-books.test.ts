/**
 * Issue 10: the OKX perpetual's book against a simulator that serves `books` as OKX does since 23 June
 * 2026 (`checksum: 0` on every frame, no pushed snapshot). Through the EngineHost, as the dashboard on
 * `?source=sim&venue=okx` runs it:
 * - over minutes of venue time the book is kept with 0 drops and the chain is never resubscribed; the
 *   client's own count of subscribe requests per hour is what the server received on that connection;
 * - a broken chain (the `gap` fault) is counted once and repaired by a REST snapshot, not a resubscribe.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultFetchJson, type FetchJson } from '../src/feeds/rest-fetch.ts';
import type { ResultMessage } from '../src/worker/protocol.ts';
import type { SocketLike } from '../src/feeds/adapter.ts';
import { btcSelection, post, startRun, total, waitFor, wsFactory, type Run } from './harness.ts';

const SPEED = 9;
/** Wall time watched: with SPEED, 3 minutes of venue time and ~200 book updates. */
const WATCH_MS = 20_000;

describe('OKX books since 2026 (checksum 0, snapshot over REST) through the EngineHost', () => {
  let run: Run;
  const rest: string[] = [];
  const fetchJson: FetchJson = (url) => {
    rest.push(url);
    return defaultFetchJson(url);
  };
  /** What the client sent on its OKX sockets, whole. */
  const sent: string[] = [];
  const socketFactory = (url: string): SocketLike => {
    const s = wsFactory(url);
    const send = s.send.bind(s);
    s.send = (data: string) => {
      if (url.includes('/okx/')) sent.push(data);
      send(data);
    };
    return s;
  };
  /** Requests the server received from OKX sessions (its log keeps each one's start). */
  const received = () => run.server.venues.hubs.get('okx')!.requestLog.filter((r) => r.text.startsWith('{'));
  const subscribes = () => received().filter((r) => r.text.startsWith('{"op":"subscribe"'));
  const booksSubscribes = () => sent.filter((t) => t.startsWith('{"op":"subscribe"') && t.includes('{"channel":"books"')).length;
  const okxHealth = () => run.host.health().find((h) => h.venue === 'okx')!;
  const lastPerp = (m: ResultMessage | undefined) => m?.perps.find((p) => p.venue === 'okx');

  beforeAll(async () => {
    run = await startRun({
      seed: 20261201,
      startMs: Date.UTC(2026, 11, 1, 9),
      speed: SPEED,
      selection: { ...btcSelection, venues: ['okx'] },
      host: { feedOptions: { heartbeatSec: 1, fetchJson }, staleAfterMs: 10_000, socketFactory },
    });
  });
  afterAll(async () => run?.close());

  it('keeps the perp book for minutes of venue time with 0 drops, never resubscribes it, and counts its subscribe requests', async () => {
    await waitFor('OKX perp depth', () => (lastPerp(run.lastResult())?.depth.length ?? 0) > 0, 20_000);
    const from = run.results().length;
    const venueFrom = run.lastResult()!.gex.nowMs;
    const t0 = Date.now();
    // a result at least every second, each with the perp's depth (nothing is cleared on the way)
    let withoutDepth = 0;
    while (Date.now() - t0 < WATCH_MS) {
      await new Promise((r) => setTimeout(r, 1_000));
      const p = lastPerp(run.lastResult());
      if (!p || p.depth.length === 0 || p.bestBid === null || !(p.bestBid < p.bestAsk!)) withoutDepth++;
    }
    const watched = run.results().slice(from);
    expect(watched.length).toBeGreaterThan(WATCH_MS / 1_000);
    expect(run.lastResult()!.gex.nowMs - venueFrom).toBeGreaterThan(2 * 60_000);
    expect(withoutDepth).toBe(0);
    expect(watched.every((m) => (lastPerp(m)?.depth.length ?? 0) > 0)).toBe(true);
    const h = okxHealth();
    expect(h.dropped).toEqual({});
    expect(h.reconnects).toBe(0);
    // one subscribe of `books`, ever, and no unsubscribe; one REST snapshot, ever
    const subs = subscribes();
    expect(booksSubscribes()).toBe(1);
    expect(received().filter((r) => r.text.startsWith('{"op":"unsubscribe"'))).toEqual([]);
    expect(rest.filter((u) => u.includes('/api/v5/market/books'))).toHaveLength(1);
    // the client's count of what it spent this hour is what the server received on the connection
    expect(new Set(subs.map((s) => s.sessionId)).size).toBe(1);
    expect(h.subscribes).toEqual({ lastHour: subs.length, budgetPerHour: 480 });
    expect(subs.length).toBeLessThan(10);
  }, WATCH_MS + 40_000);

  it('a broken chain is counted once, withdrawn, and repaired through the REST snapshot without a resubscribe', async () => {
    const snapshotsBefore = rest.filter((u) => u.includes('/api/v5/market/books')).length;
    const subsBefore = subscribes().length;
    await post(run.server, '/__sim/fault', { kind: 'gap', venue: 'okx' });
    await waitFor('the gap counted', () => okxHealth().dropped.bookGap === 1, 10_000);
    await waitFor('a second REST snapshot', () => rest.filter((u) => u.includes('/api/v5/market/books')).length === snapshotsBefore + 1, 10_000);
    const repairedAt = Date.now();
    await waitFor('depth again', () => {
      const m = run.lastResult()!;
      return m.computedAtMs > repairedAt && (lastPerp(m)?.depth.length ?? 0) > 0;
    }, 10_000);
    // and it holds: no further break, no further snapshot, no subscribe at all
    await new Promise((r) => setTimeout(r, 3_000));
    expect(okxHealth().dropped).toEqual({ bookGap: 1 });
    expect(total(okxHealth().dropped)).toBe(1);
    expect(rest.filter((u) => u.includes('/api/v5/market/books')).length).toBe(snapshotsBefore + 1);
    expect(subscribes().length).toBe(subsBefore);
    expect(booksSubscribes()).toBe(1);
    expect(okxHealth().subscribes!.lastHour).toBe(subsBefore);
  }, 40_000);
});
