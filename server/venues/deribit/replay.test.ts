/**
 * Deribit replay: only subscribed channels are delivered, in recorded order; recorded books are folded so
 * a subscriber joining mid-recording gets a snapshot the next recorded change chains on; requests are
 * answered from the recording without instruments expired at the replay's venue time. On the real 2021
 * capture and on a recording of the simulator, and with the real Deribit client (src/feeds/deribit).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { record } from '../../replay/record.ts';
import { parseRecording } from '../../replay/recording.ts';
import { startServer, type RunningServer } from '../../server.ts';
import { TestClient, sleep, type Msg } from '../../testing/test-client.ts';
import { sampleDir } from '../../../test/samples.ts';
import { createDeribitFeed } from '../../../src/feeds/deribit/client.ts';
import { RecordingSink } from '../../../src/feeds/testing.ts';
import type { Clock, FeedEvent, SocketLike } from '../../../src/feeds/adapter.ts';
import type { VenueId } from '../../../src/chain/model.ts';

const CAPTURE = sampleDir('deribit') + 'ws-capture-2021-07-22.jsonl';
const servers: RunningServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

async function replay(file: string, speed: number, loop: boolean): Promise<RunningServer> {
  const srv = await startServer({ source: 'replay', file, speed, port: 0, loop, log: () => undefined });
  servers.push(srv);
  return srv;
}

async function connect(srv: RunningServer): Promise<TestClient> {
  const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
  clients.push(c);
  return c;
}

async function until(what: string, probe: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(25);
  }
}

/** The whole non-looping recording was sent, and reached each client (a reply is queued behind every notification). */
async function playedOut(srv: RunningServer, cs: TestClient[], ms = 15_000): Promise<void> {
  await until('recording played out', () => srv.player!.finished, ms);
  for (const c of cs) await c.call('public/get_time');
}

interface BookData {
  type?: string;
  change_id: number;
  prev_change_id?: number;
  bids: [string, number, number][];
  asks: [string, number, number][];
}

/** A book folded independently of the server: price -> amount per side. */
class TestBook {
  bids = new Map<number, number>();
  asks = new Map<number, number>();
  apply(d: BookData): void {
    if (d.type === 'snapshot' || d.prev_change_id === undefined) {
      this.bids.clear();
      this.asks.clear();
    }
    for (const [side, entries] of [[this.bids, d.bids], [this.asks, d.asks]] as const)
      for (const [action, p, a] of entries) {
        if (action === 'delete') side.delete(p);
        else side.set(p, a);
      }
  }
  levels(): { bids: [number, number][]; asks: [number, number][] } {
    return { bids: [...this.bids].sort((a, b) => b[0] - a[0]), asks: [...this.asks].sort((a, b) => a[0] - b[0]) };
  }
}

/** Book notifications as received: the first a snapshot, every later change chained on the one before. */
function expectChained(notes: BookData[]): TestBook {
  expect(notes.length).toBeGreaterThan(0);
  expect(notes[0].type).toBe('snapshot');
  const book = new TestBook();
  let last = -1;
  for (const d of notes) {
    if (d.type !== 'snapshot') expect(d.prev_change_id).toBe(last);
    book.apply(d);
    last = d.change_id;
  }
  return book;
}

const recordedNotes = (frames: ReturnType<typeof parseRecording>['frames'], channel: string) =>
  frames.filter((f) => f.dir === 'in' && f.frame.method === 'subscription' && (f.frame.params as { channel: string }).channel === channel).map((f) => (f.frame.params as { data: unknown }).data);

/** The recorded book folded up to and including change_id `upTo` (all of it without). */
function recordedBook(notes: unknown[], upTo?: number): TestBook {
  const book = new TestBook();
  for (const d of notes as BookData[]) {
    book.apply(d);
    if (d.change_id === upTo) break;
  }
  return book;
}

const subs = (c: TestClient) => c.msgs.filter((m) => m.method === 'subscription');
const dataOf = (ms: Msg[]) => ms.map((m) => m.params!.data);

describe('replay of the real 2021 capture', () => {
  it('delivers only subscribed channels, .raw as the .100ms asked for, tickers in recorded order, books as a snapshot then chained changes', async () => {
    const srv = await replay(CAPTURE, 10, false);
    const { frames } = parseRecording(readFileSync(CAPTURE, 'utf8'));
    const recordedChannels = [...new Set(frames.filter((f) => f.frame.method === 'subscription').map((f) => (f.frame.params as { channel: string }).channel))];
    const tickers = recordedChannels.filter((c) => c.startsWith('ticker.'));
    const books = recordedChannels.filter((c) => c.startsWith('book.'));
    expect(tickers.length).toBe(10);
    expect(books.length).toBe(10);
    const as100 = (c: string) => c.replace(/\.raw$/, '.100ms');

    const c = await connect(srv); // playback starts here
    const one = await connect(srv);
    await c.call('public/subscribe', { channels: [...tickers, ...books].map(as100) });
    await one.call('public/subscribe', { channels: ['ticker.BTC-24SEP21-8000-P.100ms'] });
    await playedOut(srv, [c, one]);

    let tickerFrames = 0;
    for (const ch of tickers) {
      const got = dataOf(c.notes(as100(ch)));
      const all = recordedNotes(frames, ch);
      expect(got).toEqual(all.slice(all.length - got.length)); // the recorded frames from the subscription on, in order
      tickerFrames += got.length;
    }
    expect(tickerFrames).toBeGreaterThan(60); // of 89 (the first ones may go out before the subscription)
    // the session subscribed to one ticker got that ticker only
    expect(subs(one).length).toBeGreaterThan(20);
    expect(subs(one).every((m) => m.params!.channel === 'ticker.BTC-24SEP21-8000-P.100ms')).toBe(true);
    // every book: a snapshot (recorded, or the fold of what had played when the subscription came), then chained changes ending on the recorded book
    for (const ch of books) {
      const got = expectChained(dataOf(c.notes(as100(ch))) as BookData[]);
      expect(got.levels()).toEqual(recordedBook(recordedNotes(frames, ch)).levels());
    }
    expect(c.notes('book.BTC-24SEP21-8000-P.100ms').length).toBeGreaterThan(15);
    expect(subs(c).every((m) => /\.100ms$/.test(m.params!.channel!))).toBe(true);

    // requests answered from the recording's names and tickers
    const instr = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as { instrument_name: string; strike: number; expiration_timestamp: number }[];
    expect(instr.find((i) => i.instrument_name === 'BTC-24SEP21-34000-P')).toMatchObject({ strike: 34000, expiration_timestamp: Date.parse('2021-09-24T08:00:00Z') });
    const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'ETH', kind: 'option' })).result as Record<string, unknown>[];
    expect(sum.find((r) => r.instrument_name === 'ETH-30JUL21-2800-C')).toMatchObject({ underlying_price: expect.any(Number), mark_iv: expect.any(Number) });
    expect((await c.call('public/get_time')).result).toBeLessThan(Date.parse('2021-07-23T00:00:00Z'));
    expect((await c.call('public/nope')).error?.code).toBe(-32601);
    const info = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { source: string; replay: { badLines: number } };
    expect(info.source).toBe('replay');
    expect(info.replay.badLines).toBe(0);
  });

  it('counts and skips bad lines, never crashes', () => {
    const good = '{"dir":"in","ts":1700000000000,"frame":{"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_price_index.btc_usd","data":{"index_name":"btc_usd","price":1,"timestamp":1700000000000}}}}';
    const { frames, report } = parseRecording([good, '{bad', '[]', '{"dir":"up","ts":1,"frame":{}}', '{"dir":"in","ts":"x","frame":{}}', '{"event":"connect"}', ''].join('\n'));
    expect(frames.length).toBe(1);
    expect(report.badLines).toBe(4);
    expect(report.metaLines).toBe(1);
    expect(report.badReasons).toEqual({ 'invalid JSON': 1, 'not an object': 1, 'bad dir': 1, 'bad ts': 1 });
  });
});

describe('replay of a recording of the simulator', () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'gexdesk-rec-')), 'rec.jsonl');
  let lines: { dir?: string; ts: number; frame: { method?: string; params?: { channels?: string[] }; result?: unknown } }[] = [];
  let frames: ReturnType<typeof parseRecording>['frames'] = [];
  let listedExpiries = 0;
  const BOOK = 'book.BTC-PERPETUAL.100ms';

  beforeAll(async () => {
    const sim = await startServer({ source: 'sim', seed: 5, port: 0, startMs: Date.parse('2025-03-03T12:00:00Z'), log: () => undefined });
    try {
      const counts = await record({ upstreamBase: sim.url.replace('http', 'ws'), file, currencies: ['BTC'], durationMs: 3000, heartbeatS: 1 }).done;
      expect(counts.framesIn).toBeGreaterThan(20);
      listedExpiries = sim.sim!.listedExpiries().length;
    } finally {
      await sim.close();
    }
    const text = readFileSync(file, 'utf8');
    lines = text.trim().split('\n').map((l) => JSON.parse(l));
    frames = parseRecording(text).frames;
  }, 30_000);

  it('the recording holds the channel plan; replayed, subscribed channels arrive in recorded order and requests are answered from it', async () => {
    const sent = lines.filter((l) => l.dir === 'out' && l.frame.method === 'public/subscribe').flatMap((l) => l.frame.params?.channels ?? []);
    expect(sent).toEqual(expect.arrayContaining(['markprice.options.btc_usd', 'deribit_price_index.btc_usd', 'ticker.BTC-PERPETUAL.100ms', BOOK, 'instrument.state.option.BTC']));
    expect(sent.filter((s) => /^ticker\.BTC-\d/.test(s)).length).toBe(listedExpiries); // one call per expiry
    expect(lines.some((l) => l.dir === 'in' && l.frame.method === 'heartbeat')).toBe(true);
    expect(lines.some((l) => l.dir === 'out' && l.frame.method === 'public/test')).toBe(true);
    expect(recordedNotes(frames, BOOK).length).toBeGreaterThan(10);

    const rep = await replay(file, 4, false);
    expect(rep.player!.report.badLines).toBe(0);
    const c = await connect(rep);
    await c.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
    const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result as unknown[];
    const recordedSum = lines.find((l) => l.dir === 'in' && Array.isArray(l.frame.result) && (l.frame.result[0] as { mark_iv?: number } | undefined)?.mark_iv !== undefined)!;
    expect(sum).toEqual(recordedSum.frame.result);
    await playedOut(rep, [c]);
    const idx = dataOf(c.notes('deribit_price_index.btc_usd'));
    const all = recordedNotes(frames, 'deribit_price_index.btc_usd');
    expect(idx.length).toBeGreaterThan(all.length / 2);
    expect(idx).toEqual(all.slice(all.length - idx.length));
    expect(subs(c).every((m) => m.params!.channel === 'deribit_price_index.btc_usd')).toBe(true);
  });

  it('a late book subscriber gets the folded book as a snapshot, then the recorded changes chained on it; a session not subscribed gets no book', async () => {
    const rep = await replay(file, 2, false);
    const first = await connect(rep); // starts playback
    await first.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
    const notes = recordedNotes(frames, BOOK) as BookData[];
    // join once a third of the recorded changes have played
    const third = notes[Math.floor(notes.length / 3)].change_id;
    const joinAfter = rep.player!.frames.find((f) => (f.frame.params as { data?: BookData } | undefined)?.data?.change_id === third)!.ts; // on the replay's (venue) clock
    await until('a third of the book played', () => rep.player!.position() > joinAfter, 10_000);
    const late = await connect(rep);
    await late.call('public/subscribe', { channels: [BOOK] });
    await playedOut(rep, [first, late]);

    const got = dataOf(late.notes(BOOK)) as BookData[];
    const book = expectChained(got);
    const snap = got[0];
    expect(snap.change_id).toBeGreaterThan(notes[0].change_id); // not the recorded snapshot: the fold
    expect(got.slice(1)).toEqual(notes.slice(notes.length - got.length + 1)); // then every recorded change after it
    const at = recordedBook(notes, snap.change_id).levels();
    expect({ bids: snap.bids.map(([, p, a]) => [p, a]), asks: snap.asks.map(([, p, a]) => [p, a]) }).toEqual(at);
    expect(at.bids.length).toBeGreaterThan(50);
    expect(book.levels()).toEqual(recordedBook(notes).levels());
    // the first session asked for the index only
    expect(first.notes('deribit_price_index.btc_usd').length).toBeGreaterThan(3);
    expect(subs(first).every((m) => m.params!.channel === 'deribit_price_index.btc_usd')).toBe(true);
  });

  it('does not list instruments expired at the replay\'s venue time (recorded answers included)', async () => {
    const rep = await replay(file, 1, true);
    const c = await connect(rep);
    type Row = { instrument_name: string; expiration_timestamp: number };
    const before = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as Row[];
    const first = Math.min(...before.map((r) => r.expiration_timestamp));
    const nearest = before.filter((r) => r.expiration_timestamp === first).map((r) => r.instrument_name);
    expect(nearest.length).toBeGreaterThan(4);
    const summaryNames = async () => ((await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result as Row[]).map((r) => r.instrument_name);
    expect(await summaryNames()).toEqual(expect.arrayContaining(nearest));

    const res = await fetch(`${rep.url}/__sim/fault`, { method: 'POST', body: JSON.stringify({ kind: 'expireAt', expiryMs: first }) });
    expect(res.status).toBe(200);
    expect((await c.call('public/get_time')).result).toBeGreaterThanOrEqual(first);
    const after = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as Row[];
    expect(after.length).toBe(before.length - nearest.length);
    expect(after.every((r) => r.expiration_timestamp > first)).toBe(true);
    const names = await summaryNames();
    expect(names.length).toBeGreaterThan(50);
    expect(names.filter((n) => nearest.includes(n))).toEqual([]);
  });

  it('the Deribit client joining mid-recording keeps its perpetual book without a gap resubscribe, across a loop; after a gap fault, one resubscribe restores it', async () => {
    const rep = await replay(file, 2, true);
    const starter = await connect(rep); // starts playback; the client joins about half way
    const span = rep.player!.report.spanMs;
    await until('half the recording played', () => rep.player!.position() > rep.player!.t0 + span / 2, 10_000);
    starter.close();
    const sink = new GapSink();
    const feed = createDeribitFeed({
      url: rep.url.replace('http', 'ws') + '/deribit/ws/api/v2',
      currency: 'BTC',
      clock: realClock,
      socketFactory: (u) => new WebSocket(u, { perMessageDeflate: false }) as unknown as SocketLike,
      sink,
      heartbeatSec: 1,
    });
    feed.start();
    try {
      const deep = (from = 0) => sink.perps.slice(from).filter((q) => q.depth.length > 0 && q.bestBid !== null && q.bestAsk !== null).length;
      // past the end of the recording and into the next loop (the recorded snapshot comes round again)
      const loopsAtJoin = rep.player!.report.loops;
      await until('a loop with the book', () => rep.player!.report.loops > loopsAtJoin && deep() > 20, 15_000);
      expect(sink.drops()).toEqual([]);
      const session = [...rep.hub.sessions][0].stats.id;
      const unsubscribes = () => rep.hub.requestLog.filter((r) => r.sessionId === session && r.method === 'public/unsubscribe').length;
      expect(unsubscribes()).toBe(0);

      await fetch(`${rep.url}/__sim/fault`, { method: 'POST', body: JSON.stringify({ kind: 'gap', venue: 'deribit' }) });
      // depth after the gap only comes from a snapshot sent after it: the fold, on the client's resubscribe
      await until('the book back after the gap', () => sink.gapAt >= 0 && deep(sink.gapAt) > 10, 15_000);
      expect(unsubscribes()).toBe(1);
      const dropsBack = sink.drops().length; // bookGap, and changes before the resubscribe's snapshot (bookNoSnapshot)
      const loopsNow = rep.player!.report.loops;
      await until('another loop', () => rep.player!.report.loops > loopsNow && deep(sink.gapAt) > 30, 15_000);
      expect(sink.drops().filter((r) => r === 'bookGap')).toEqual(['bookGap']);
      expect(sink.drops().slice(dropsBack)).toEqual([]);
      expect(unsubscribes()).toBe(1);
      expect(sink.count('closed')).toBe(0);
    } finally {
      feed.stop();
    }
  }, 45_000);
});

/** Notes where the perp quotes stood when the client saw its first book gap. */
class GapSink extends RecordingSink {
  gapAt = -1;
  override status(venue: VenueId, event: FeedEvent): void {
    super.status(venue, event);
    if (this.gapAt < 0 && event.kind === 'dropped' && event.reason === 'bookGap') this.gapAt = this.perps.length;
  }
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
