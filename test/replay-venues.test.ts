/**
 * Issue 4: every venue is tested offline the way Deribit is. Each added venue's real client builds a
 * non-empty chain from a replay, valued at the recording's venue time (not the wall clock):
 * - through the EngineHost, from a recording of the simulator started in March 2025 (the recorder runs
 *   the same real clients, so the file holds their subscriptions, frames and REST answers);
 * - directly, from real captures turned into recordings (OKX's 2023-12-01 opt-summary snapshot, Bybit's
 *   2023-04-05 option tickers), whose instruments the replay derives from the ids they name.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.ts';
import { record } from '../server/replay/record.ts';
import { importCapture } from '../server/replay/import-capture.ts';
import { EngineHost } from '../src/worker/host.ts';
import { ChainStore } from '../src/chain/store.ts';
import { feedUrl } from '../src/feeds/registry.ts';
import { okxAdapter } from '../src/feeds/okx/index.ts';
import { bybitAdapter } from '../src/feeds/bybit/index.ts';
import type { FeedOptions, FeedSink, VenueAdapter } from '../src/feeds/adapter.ts';
import type { Currency, VenueId } from '../src/chain/model.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage } from '../src/worker/protocol.ts';
import { sampleDir } from './samples.ts';
import { realClock, waitFor, wsFactory } from './harness.ts';

const SIM_START = Date.UTC(2025, 2, 3, 12, 0, 0);
const dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-replay-venues-'));

function liveLines(store: ChainStore): { n: number; iv: number; fwd: number; oi: number } {
  const c = store.columns();
  let iv = 0;
  let fwd = 0;
  let oi = 0;
  for (let i = 0; i < c.length; i++) {
    if (Number.isFinite(c.markIv[i])) iv++;
    if (Number.isFinite(c.forward[i])) fwd++;
    if (Number.isFinite(c.openInterest[i])) oi++;
  }
  return { n: c.length, iv, fwd, oi };
}

/**
 * A probe of the recording being written: true once it holds, for every case below, an open-interest
 * push sent after the last subscribe of that venue's clients, i.e. a whole round (every subscribed
 * line). The simulator pushes open interest every 3 s (OKX, Binance): a fixed 5 s recording held one
 * round when the clients had subscribed within ~3 s, and none on a loaded machine. Reads what was
 * appended since the last call (the file grows ~10 MB a second).
 */
function openInterestRound(file: string): () => boolean {
  const lastSubscribe: Partial<Record<VenueId, number>> = {};
  const lastOi = { okx: 0, binance: 0, bybit: 0 };
  const oiOf: [keyof typeof lastOi, RegExp][] = [
    ['okx', /"frame":\{"arg":\{"channel":"open-interest","instId":"BTC-USD[-_]/],
    ['binance', /"frame":\{"stream":"btcusdt@optionOpenInterest@/],
    ['bybit', /"frame":\{"id":"[^"]*","topic":"tickers\.ETH-.*"openInterest"/],
  ];
  let offset = 0;
  let partial = '';
  const buf = Buffer.alloc(1 << 20);
  return () => {
    let fd: number;
    try {
      fd = openSync(file, 'r');
    } catch {
      return false; // not created yet
    }
    try {
      for (let n; (n = readSync(fd, buf, 0, buf.length, offset)) > 0;) {
        offset += n;
        const lines = (partial + buf.toString('utf8', 0, n)).split('\n');
        partial = lines.pop()!;
        for (const line of lines) {
          const venue = /^\{"venue":"(\w+)"/.exec(line)?.[1] as VenueId | undefined;
          const ts = Number(/"ts":(\d+)/.exec(line)?.[1]);
          if (!venue || !Number.isFinite(ts)) continue;
          if (line.includes('"dir":"out"') && /"op":"subscribe"|"method":"SUBSCRIBE"/.test(line)) lastSubscribe[venue] = ts;
          else if (line.includes('"dir":"in"')) for (const [v, re] of oiOf) if (v === venue && re.test(line)) lastOi[v] = ts;
        }
      }
    } finally {
      closeSync(fd);
    }
    return oiOf.every(([v]) => lastSubscribe[v] !== undefined && lastOi[v] > lastSubscribe[v]!);
  };
}

describe('added venues through the EngineHost, replaying a recording of the simulator (venue time March 2025)', () => {
  let server: RunningServer;
  beforeAll(async () => {
    const file = path.join(dir, 'sim-2025.jsonl');
    // the recorder's clients open 12 sockets from one address (within the default per-IP cap)
    const sim = await startServer({ source: 'sim', seed: 20250303, port: 0, startMs: SIM_START, log: () => undefined });
    try {
      const rec = record({ upstreamBase: sim.url.replace(/^http/, 'ws'), venues: ['okx', 'bybit', 'binance'], file, currencies: ['BTC', 'ETH'] });
      try {
        await waitFor('a whole round of open interest for every case in the recording', openInterestRound(file), 25_000, 100);
      } finally {
        rec.stop();
      }
      await rec.done;
    } finally {
      await sim.close();
    }
    server = await startServer({ source: 'replay', file, speed: 2, port: 0, loop: true, log: () => undefined });
    expect(server.player!.report.badLines).toBe(0);
  }, 30_000);
  afterAll(async () => server?.close());

  const cases: { venue: VenueId; currency: Currency }[] = [
    { venue: 'okx', currency: 'BTC' },
    { venue: 'bybit', currency: 'ETH' },
    { venue: 'binance', currency: 'BTC' },
  ];
  for (const tc of cases) {
    it(`${tc.venue} ${tc.currency}: a chain with IV and OI, valued in March 2025`, async () => {
      const base = server.url.replace(/^http/, 'ws');
      const posted: FromWorker[] = [];
      const stores: ChainStore[] = [];
      const host = new EngineHost({
        clock: realClock,
        socketFactory: wsFactory,
        localBase: base,
        createStore: (venue, currency) => {
          const st = new ChainStore(venue, currency);
          stores.push(st);
          return st;
        },
        post: (msg) => {
          posted.push(msg);
          if (msg.type === 'result') queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
        },
      });
      try {
        host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
        host.handle({ type: 'select', selection: { source: 'replay', venues: [tc.venue], currency: tc.currency, expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS } });
        // the whole chain has been pushed once (IV on most lines) and a result includes it
        const result = await waitFor(
          'a result with included lines',
          () => {
            const st = stores.at(-1);
            const l = st ? liveLines(st) : null;
            return l && l.n > 50 && l.iv > 0.9 * l.n && l.oi > 0.5 * l.n ? posted.findLast((m): m is ResultMessage => m.type === 'result' && m.gex.includedLines > 20) : undefined;
          },
          20_000,
        ).catch((e: unknown) => {
          const notes = posted.filter((m) => m.type === 'notice').map((m) => (m as { message: string }).message);
          throw new Error(`${String(e)}: lines ${JSON.stringify(stores.map(liveLines))}, notices ${JSON.stringify(notes.slice(0, 5))}`);
        });
        // valued at the recording's venue time: March 2025, not now
        expect(result.gex.nowMs).toBeGreaterThanOrEqual(SIM_START);
        expect(result.gex.nowMs).toBeLessThan(SIM_START + 3_600_000);
        expect(result.includedVenues).toEqual([tc.venue]);
        expect(result.gex.spot).toBeGreaterThan(0);
        // the expiries are those listed in March 2025: the first is the next 08:00 after the start
        expect(result.expiries.length).toBeGreaterThan(3);
        expect(result.expiries[0].expiryMs).toBe(Date.UTC(2025, 2, 4, 8));
        const lines = liveLines(stores.at(-1)!);
        expect(lines.n).toBeGreaterThan(50);
        expect(lines.iv).toBeGreaterThan(0.9 * lines.n);
        expect(lines.oi).toBeGreaterThan(0.5 * lines.n);
      } finally {
        host.dispose();
      }
    }, 30_000);
  }
});

/** A sink keeping one venue's chain, and its venue time (the newest stamp it accepted), as the host does. */
function chainSink(store: ChainStore, time: { venueMs: number | null }): FeedSink {
  const seen = (ts: number | undefined) => {
    if (typeof ts === 'number' && Number.isFinite(ts) && (time.venueMs === null || ts > time.venueMs)) time.venueMs = ts;
  };
  return {
    instruments: (_v, _c, list, complete) => void store.upsertInstruments(list, complete),
    options: (_v, u) => {
      for (const x of u) seen(x.timestampMs);
      store.applyOptions(u);
    },
    forwards: (_v, _c, u) => {
      for (const x of u) seen(x.timestampMs);
      store.applyForwards(u);
    },
    index: (_v, _c, _p, ts) => seen(ts),
    perp: () => undefined,
    trades: () => undefined,
    status: () => undefined,
  };
}

async function clientOnCapture(adapter: VenueAdapter, currency: Currency, file: string, speed: number, until: (s: ChainStore) => boolean) {
  const server = await startServer({ source: 'replay', file, speed, port: 0, loop: true, log: () => undefined });
  const store = new ChainStore(adapter.id, currency);
  const time = { venueMs: null as number | null };
  const options: FeedOptions & { venueNow: () => number | null } = {
    url: feedUrl(adapter, server.url.replace(/^http/, 'ws')),
    currency,
    clock: realClock,
    socketFactory: wsFactory,
    sink: chainSink(store, time),
    venueNow: () => time.venueMs,
  };
  const feed = adapter.createFeed(options);
  feed.start();
  try {
    await waitFor(`${adapter.id} chain from the capture`, () => until(store), 15_000);
    return { store, venueMs: time.venueMs, server };
  } finally {
    feed.stop();
    await server.close();
  }
}

describe('added venues directly on real captures (instruments derived from the recording)', () => {
  it('OKX BTC from the 2023-12-01 opt-summary snapshot: 64 lines with mark IV and forward, venue time 2023-12-01', async () => {
    const file = path.join(dir, 'okx-2023.jsonl');
    const lines = ['ws-opt-summary-BTC-USD-2023-12-01T000000085Z.json', 'ws-other-channels-2023-12-01.json'].flatMap((f) => importCapture('okx', readFileSync(sampleDir('okx') + f, 'utf8')).lines);
    writeFileSync(file, lines.join('\n'));
    const { store, venueMs } = await clientOnCapture(okxAdapter, 'BTC', file, 10, (s) => liveLines(s).iv >= 64);
    const l = liveLines(store);
    expect(l.iv).toBe(64);
    expect(l.fwd).toBeGreaterThanOrEqual(64);
    expect(venueMs).toBeGreaterThanOrEqual(Date.UTC(2023, 11, 1));
    expect(venueMs).toBeLessThan(Date.UTC(2023, 11, 1, 1));
    const c = store.columns();
    const i = [...Array(c.length).keys()].find((k) => c.strike[k] === 40000 && c.expiryMs[k] === Date.UTC(2023, 11, 29, 8) && c.isCall[k] === 0)!;
    expect(c.markIv[i]).toBeCloseTo(0.4686517873, 9);
    expect(c.forward[i]).toBeCloseTo(38026.372899316, 6);
    expect(c.multiplier[i]).toBe(0.1);
  }, 30_000);

  it('Bybit ETH from the 2023-04-05 option tickers: the ETH-30JUN23-200-P line with IV, forward and OI, venue time 2023-04-05', async () => {
    const file = path.join(dir, 'bybit-2023.jsonl');
    writeFileSync(file, importCapture('bybit', readFileSync(sampleDir('bybit') + 'tardis-node-bybit-options-v5-messages.json', 'utf8')).lines.join('\n'));
    const { store, venueMs } = await clientOnCapture(bybitAdapter, 'ETH', file, 40, (s) => liveLines(s).iv >= 1);
    const c = store.columns();
    expect(c.length).toBe(1);
    expect(c.strike[0]).toBe(200);
    expect(c.expiryMs[0]).toBe(Date.UTC(2023, 5, 30, 8));
    expect(c.markIv[0]).toBeCloseTo(1.5991, 9);
    expect(c.forward[0]).toBeCloseTo(1886.16, 6);
    expect(c.openInterest[0]).toBeCloseTo(231.5, 9);
    expect(venueMs).toBeGreaterThanOrEqual(Date.UTC(2023, 3, 5));
    expect(venueMs).toBeLessThan(Date.UTC(2023, 3, 6));
  }, 30_000);
});
