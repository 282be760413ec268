/**
 * Replay of OKX, Bybit and Binance on their own paths: a recording made from the simulator (all four
 * venues in one file, through the recorder's real clients) replays per venue with the venue's acks,
 * keepalive and REST answers, only subscribed topics, in recorded order, at the recorded pace / speed;
 * and real captures (OKX 2022 session, OKX 2023 opt-summary) replay after import.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { record } from './record.ts';
import { importCapture } from './import-capture.ts';
import { parseRecording } from './recording.ts';
import { startServer, type RunningServer } from '../server.ts';
import { Conn } from '../testing/venue-test-conn.ts';
import { TestClient } from '../testing/test-client.ts';
import { sampleDir } from '../../test/samples.ts';
import { okxBookChecksum, parseOkxBookSnapshot, parseOkxOptionInstruments } from '../../src/feeds/okx/parse.ts';
import { LevelBook } from '../../src/feeds/level-book.ts';

interface Line {
  venue?: string;
  path?: string;
  conn?: number;
  dir?: string;
  ts: number;
  frame?: Record<string, unknown>;
  query?: string;
  body?: unknown;
  event?: string;
}

const dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-vrep-'));
const FILE = path.join(dir, 'four-venues.jsonl');
let lines: Line[] = [];
const servers: RunningServer[] = [];
const conns: Conn[] = [];

beforeAll(async () => {
  const sim = await startServer({ source: 'sim', seed: 11, port: 0, startMs: Math.floor(Date.now() / 1000) * 1000, log: () => undefined });
  try {
    const rec = record({ upstreamBase: sim.url.replace(/^http/, 'ws'), venues: ['deribit', 'okx', 'bybit', 'binance'], file: FILE, currencies: ['BTC'], durationMs: 3_000, heartbeatS: 1 });
    await rec.done;
  } finally {
    await sim.close();
  }
  lines = readFileSync(FILE, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}, 30_000);

afterEach(async () => {
  for (const c of conns.splice(0)) c.ws.terminate();
  for (const s of servers.splice(0)) await s.close();
});

async function replay(file: string, speed: number, loop = false): Promise<RunningServer> {
  const srv = await startServer({ source: 'replay', file, speed, port: 0, loop, log: () => undefined });
  servers.push(srv);
  return srv;
}

async function open(srv: RunningServer, p: string): Promise<Conn> {
  const c = await Conn.open(srv.url.replace(/^http/, 'ws') + p);
  conns.push(c);
  return c;
}

/** The recorded inbound data frames of a venue and path, as text, with their recorded times. */
function recorded(venue: string, p: string, pred: (f: Record<string, unknown>) => boolean): { text: string; ts: number }[] {
  return lines.filter((l) => l.venue === venue && l.path === p && l.dir === 'in' && l.frame && pred(l.frame)).map((l) => ({ text: JSON.stringify(l.frame), ts: l.ts }));
}

/** `got` is the tail of `all` (a subscriber joined mid-recording and the recording stopped). */
function expectTail(got: string[], all: string[]): void {
  expect(got.length).toBeGreaterThan(0);
  expect(got).toEqual(all.slice(all.length - got.length));
}

/** Wait until the player has delivered the whole (non-looping) recording. */
async function playedOut(srv: RunningServer, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!srv.player!.finished) {
    if (Date.now() > end) throw new Error('recording not played out in time');
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 100)); // the last frames' way through the socket
}

describe('recording several venues into one file', () => {
  it('tags every line with venue and path, records the clients\' REST answers, and parses without bad lines', () => {
    const { frames, rest, report } = parseRecording(readFileSync(FILE, 'utf8'));
    expect(report.badLines).toBe(0);
    const paths = new Set(frames.map((f) => `${f.venue} ${f.path}`));
    for (const p of ['deribit /deribit/ws/api/v2', 'okx /okx/ws/v5/public', 'bybit /bybit/v5/public/option', 'bybit /bybit/v5/public/linear', 'binance /binance/market/stream', 'binance /binance/public/stream']) expect(paths).toContain(p);
    expect(rest.map((r) => `${r.path}?${r.query}`).sort()).toEqual([
      '/binance/rest/eapi/v1/exchangeInfo?',
      '/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000',
      // the OKX client's book snapshot: the venue (and the simulator) push none since 2026
      '/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400',
      '/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD',
      '/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD_UM',
      '/okx/rest/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP',
    ]);
    // the clients' own subscriptions are in it (sent frames)
    const okxArgs = frames.filter((f) => f.venue === 'okx' && f.dir === 'out').flatMap((f) => f.frame.args as { channel: string }[]);
    expect(okxArgs.filter((a) => a.channel === 'open-interest').length).toBeGreaterThan(20);
  });

  it('reads bad venue lines as counted reasons', () => {
    const { report } = parseRecording(
      [
        '{"venue":"kraken","path":"/kraken/ws","dir":"in","ts":1700000000000,"frame":{}}',
        '{"venue":"okx","path":"/bybit/v5/public/option","dir":"in","ts":1700000000000,"frame":{}}',
        '{"venue":"okx","dir":"in","ts":1700000000000,"frame":{}}',
        '{"venue":"okx","path":"/okx/ws/v5/public","dir":"rest","ts":1700000000000,"body":{}}',
        '{"venue":"okx","path":"/okx/ws/v5/public","dir":"in","ts":1700000000000,"frame":{"arg":{"channel":"index-tickers","instId":"BTC-USD"},"data":[]}}',
      ].join('\n'),
    );
    expect(report.badReasons).toEqual({ 'unknown venue': 1, 'bad path': 2, 'bad rest line': 1 });
    expect(report.venues.okx).toEqual({ frames: 1, rest: 0, delivered: 0 });
  });
});

describe('OKX replay', () => {
  it('acks and refuses per arg, answers ping, delivers only the subscribed args in recorded order at the recorded pace / speed, books as a REST snapshot from the fold + chained updates', async () => {
    const speed = 4;
    const before = Date.now();
    const srv = await replay(FILE, speed);
    const c = await open(srv, '/okx/ws/v5/public');
    const recvAt = new Map<string, number>();
    c.ws.on('message', (d) => recvAt.set(d.toString(), Date.now()));
    c.ws.send('ping');
    expect(await c.wait((t) => t === 'pong')).toBe('pong');
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }, { channel: 'books', instId: 'BTC-USDT-SWAP' }, { channel: 'index-tickers', instId: 'DOGE-USD' }] }));
    await c.wait((t) => t.includes('"code":"60018"'));
    expect(c.frames.filter((t) => t.startsWith('{"event":"subscribe"')).length).toBe(2);
    // No snapshot is pushed (the recording is of the venue since 2026): the book comes over REST, from
    // the replay's fold, once the recorded snapshot the client fetched at recording time is due.
    const booksUrl = `${srv.url}/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400`;
    let snap: { bids: [string, string][]; asks: [string, string][]; seqId: number | null } | null = null;
    for (let i = 0; i < 100 && snap === null; i++) {
      const r = parseOkxBookSnapshot(await (await fetch(booksUrl)).json());
      if ('snapshot' in r) snap = r.snapshot;
      else await new Promise((res) => setTimeout(res, 50));
    }
    if (!snap) throw new Error('no book snapshot from the replay');
    await playedOut(srv, 10_000);
    const playedIn = Date.now() - before;

    const data = c.frames.filter((t) => t.startsWith('{"arg"'));
    const idx = recorded('okx', '/okx/ws/v5/public', (f) => (f.arg as { channel: string }).channel === 'index-tickers' && (f.arg as { instId: string }).instId === 'BTC-USD');
    expectTail(data.filter((t) => t.includes('"index-tickers"')), idx.map((r) => r.text));
    // nothing but the two subscribed args
    expect(data.every((t) => t.startsWith('{"arg":{"channel":"index-tickers","instId":"BTC-USD"}') || t.startsWith('{"arg":{"channel":"books","instId":"BTC-USDT-SWAP"}'))).toBe(true);
    // paced: no frame before its recorded offset / speed from playback start (which is after `before`)
    // The player may move recorded times onto the venue clock (a sim recorded under load lags its
    // stamps by >= 1 s); t0 is on that clock, the file's times are not.
    const t0 = srv.player!.t0 - (srv.player!.report.clockOffsetMs ?? 0);
    for (const r of idx) {
      const at = recvAt.get(r.text);
      if (at !== undefined) expect(at - before).toBeGreaterThanOrEqual((r.ts - t0) / speed - 5);
    }
    // ... and the whole recording took about span / speed: never less, and well under the span itself
    const span = srv.player!.report.spanMs;
    expect(span).toBeGreaterThan(2_000);
    expect(playedIn).toBeGreaterThanOrEqual(span / speed - 5);
    expect(playedIn).toBeLessThan(span * 0.75);

    const books = data.filter((t) => t.includes('"books"')).map((t) => JSON.parse(t) as { action: string; data: { bids: string[][]; asks: string[][]; checksum: number; seqId: number; prevSeqId: number }[] });
    expect(books.every((b) => b.action === 'update' && b.data[0].checksum === 0)).toBe(true);
    const book = new LevelBook();
    for (const [p, z] of snap.bids) book.apply('bid', p, z);
    for (const [p, z] of snap.asks) book.apply('ask', p, z);
    let last = snap.seqId!;
    let joined = false;
    for (const b of books) {
      const d = b.data[0];
      if (d.seqId <= snap.seqId!) continue; // contained in the snapshot
      if (joined) expect(d.prevSeqId).toBe(last);
      else expect(d.prevSeqId).toBeLessThanOrEqual(last);
      joined = true;
      for (const [p, s] of d.bids) book.apply('bid', p, s);
      for (const [p, s] of d.asks) book.apply('ask', p, s);
      last = d.seqId;
    }
    expect(joined).toBe(true);
    // the book so built is the replay's at the end of the recording
    const end = parseOkxBookSnapshot(await (await fetch(booksUrl)).json());
    if (!('snapshot' in end)) throw new Error('no final snapshot');
    expect(end.snapshot.seqId).toBe(last);
    expect(book.bids().map((l) => [l.priceText, l.sizeText])).toEqual(end.snapshot.bids);
    expect(book.asks().map((l) => [l.priceText, l.sizeText])).toEqual(end.snapshot.asks);

    // REST from the recording (query order does not matter)
    const recordedBody = lines.find((l) => l.dir === 'rest' && l.query === 'instType=OPTION&instFamily=BTC-USD')!.body;
    expect(await (await fetch(`${srv.url}/okx/rest/api/v5/public/instruments?instFamily=BTC-USD&instType=OPTION`)).json()).toEqual(recordedBody);
    expect((await (await fetch(`${srv.url}/__gexdesk/info`)).json()).venues).toEqual(['deribit', 'okx', 'bybit', 'binance']);
  });

  it('a REST book answer that arrived after the updates following its snapshot still starts a whole chain (as a live recording has it)', async () => {
    const T = 1_700_000_000_000;
    const arg = { channel: 'books', instId: 'BTC-USDT-SWAP' };
    const update = (at: number, seqId: number, bids: string[][]) =>
      JSON.stringify({ venue: 'okx', path: '/okx/ws/v5/public', conn: 1, dir: 'in', ts: at, frame: { arg, action: 'update', data: [{ asks: [], bids, ts: String(at), checksum: 0, prevSeqId: seqId - 1, seqId }] } });
    const file = path.join(dir, 'okx-late-rest.jsonl');
    writeFileSync(file, [
      update(T, 10, [['100', '1', '0', '1']]),
      update(T + 100, 11, [['101', '2', '0', '1']]),
      update(T + 200, 12, [['102', '3', '0', '1']]),
      // the snapshot at seqId 10, fetched before update 11 and answered after update 12
      JSON.stringify({ venue: 'okx', path: '/okx/rest/api/v5/market/books', query: 'instId=BTC-USDT-SWAP&sz=400', dir: 'rest', ts: T + 250, status: 200, body: { code: '0', msg: '', data: [{ asks: [['110', '5', '0', '1']], bids: [['100', '1', '0', '1'], ['99', '4', '0', '1']], ts: String(T), seqId: 10 }] } }),
      update(T + 300, 13, [['99', '0', '0', '0']]),
    ].join('\n'));
    const srv = await replay(file, 4);
    await open(srv, '/okx/ws/v5/public'); // starts playback
    await playedOut(srv, 5_000);
    const body = await (await fetch(`${srv.url}/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400`)).json();
    expect(body).toMatchObject({ code: '0', data: [{ seqId: 13, asks: [['110', '5', '0', '1']], bids: [['102', '3', '0', '1'], ['101', '2', '0', '1'], ['100', '1', '0', '1']] }] });
  });

  it('a real 2022 OKX session: a late subscriber gets a snapshot that OKX\'s own checksums on the next updates confirm', async () => {
    const file = path.join(dir, 'okx-2022.jsonl');
    writeFileSync(file, importCapture('okx', readFileSync(sampleDir('okx') + 'cryptofeed-sample_data-OKX.ws.1.0.txt', 'utf8')).lines.join('\n'));
    const srv = await replay(file, 4, true);
    expect(srv.player!.report.badLines).toBe(0);
    const first = await open(srv, '/okx/ws/v5/public'); // starts playback
    await new Promise((r) => setTimeout(r, 1_200)); // ~5 s into the 12 s session
    const c = await open(srv, '/okx/ws/v5/public');
    first.ws.terminate();
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USD-220527' }, { channel: 'tickers', instId: 'BTC-USDT' }, { channel: 'tickers', instId: 'ETH-USDT' }] }));
    await c.wait((t) => t.includes('"code":"60018"') && t.includes('ETH-USDT'));
    const books = () => c.frames.filter((t) => t.startsWith('{"arg":{"channel":"books"'));
    await c.wait(() => books().length >= 6, 10_000);
    const book = new LevelBook();
    const msgs = books().map((t) => JSON.parse(t) as { action: string; data: { bids: string[][]; asks: string[][]; checksum: number }[] });
    expect(msgs[0].action).toBe('snapshot');
    for (const m of msgs) {
      if (m.action === 'snapshot') book.clear();
      for (const [p, s] of m.data[0].bids) book.apply('bid', p, s);
      for (const [p, s] of m.data[0].asks) book.apply('ask', p, s);
      expect(okxBookChecksum(book.bids(), book.asks())).toBe(m.data[0].checksum);
    }
    expect(msgs.filter((m) => m.action === 'update').length).toBeGreaterThanOrEqual(3);
    expect(c.frames.filter((t) => t.startsWith('{"arg"')).every((t) => t.includes('"instId":"BTC-USD-220527"') || t.includes('"instId":"BTC-USDT"}'))).toBe(true);
  });

  it('the real 2023 opt-summary snapshot: pushed on its arg, instruments derived from its ids at the recording\'s venue time', async () => {
    const file = path.join(dir, 'okx-2023.jsonl');
    const text = ['ws-opt-summary-BTC-USD-2023-12-01T000000085Z.json', 'ws-other-channels-2023-12-01.json'].flatMap((f) => importCapture('okx', readFileSync(sampleDir('okx') + f, 'utf8')).lines);
    writeFileSync(file, text.join('\n'));
    const srv = await replay(file, 10, true);
    const body = await (await fetch(`${srv.url}/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD`)).json();
    const list = parseOkxOptionInstruments(body, 'BTC');
    expect(list.error).toBeNull();
    expect(list.list.length).toBe(65); // the 64 opt-summary rows and the trades-all push's instrument
    expect(list.list.every((i) => i.multiplier === 0.1 && i.expiryMs > Date.UTC(2023, 11, 1))).toBe(true);
    expect(list.list.find((i) => i.name === 'BTC-USD-231229-40000-P')).toMatchObject({ strike: 40000, isCall: false, expiryMs: Date.UTC(2023, 11, 29, 8) });
    const c = await open(srv, '/okx/ws/v5/public');
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'opt-summary', instFamily: 'BTC-USD' }] }));
    const push = JSON.parse(await c.wait((t) => t.includes('"data"'), 8_000)) as { data: { instId: string; markVol: string; ts: string }[] };
    expect(push.data.length).toBe(64);
    expect(push.data.find((r) => r.instId === 'BTC-USD-231229-40000-P')!.markVol).toBe('0.4686517873');
    // venue time is 2023 (shifted by whole loops of the recording, never to now)
    expect(Number(push.data[0].ts)).toBeLessThan(Date.UTC(2023, 11, 1, 0, 5));
  });
});

describe('Bybit replay', () => {
  it('option socket: COMMAND_RESP with success and fail topics, pong, only subscribed tickers in order; linear: snapshot-first book and tickers', async () => {
    const srv = await replay(FILE, 4);
    const opt = await open(srv, '/bybit/v5/public/option');
    opt.ws.send('{"req_id":"p","op":"ping"}');
    expect(JSON.parse(await opt.wait((t) => t.includes('"op":"pong"')))).toMatchObject({ op: 'pong', req_id: 'p' });
    const optionTickers = recorded('bybit', '/bybit/v5/public/option', (f) => typeof f.topic === 'string');
    const topics = [...new Set(optionTickers.map((r) => (JSON.parse(r.text) as { topic: string }).topic))].slice(0, 2);
    opt.ws.send(JSON.stringify({ op: 'subscribe', args: [...topics, 'tickers.BTC-1JAN30-1-C'] }));
    expect(JSON.parse(await opt.wait((t) => t.includes('COMMAND_RESP')))).toMatchObject({ success: true, data: { successTopics: topics, failTopics: ['tickers.BTC-1JAN30-1-C'] } });
    const lin = await open(srv, '/bybit/v5/public/linear');
    lin.ws.send('{"op":"ping"}');
    await lin.wait((t) => t.includes('"ret_msg":"pong"'));
    lin.ws.send(JSON.stringify({ op: 'subscribe', args: ['orderbook.200.BTCUSDT', 'tickers.BTCUSDT'] }));
    expect(JSON.parse(await lin.wait((t) => t.includes('"op":"subscribe"')))).toMatchObject({ success: true });
    await playedOut(srv, 10_000);

    const got = opt.frames.filter((t) => t.startsWith('{"id"') || t.startsWith('{"topic"'));
    for (const topic of topics) {
      const mine = optionTickers.filter((r) => r.text.includes(`"topic":"${topic}"`)).map((r) => r.text);
      expectTail(got.filter((t) => t.includes(`"topic":"${topic}"`)), mine);
    }
    expect(got.every((t) => topics.some((tp) => t.includes(`"topic":"${tp}"`)))).toBe(true);

    const msgs = lin.frames.filter((t) => t.startsWith('{"topic"')).map((t) => JSON.parse(t) as { topic: string; type: string; data: Record<string, unknown> });
    const bookMsgs = msgs.filter((m) => m.topic === 'orderbook.200.BTCUSDT');
    const tickerMsgs = msgs.filter((m) => m.topic === 'tickers.BTCUSDT');
    expect(bookMsgs[0].type).toBe('snapshot');
    expect(tickerMsgs[0].type).toBe('snapshot');
    expect(tickerMsgs[0].data.fundingRate).toBeDefined(); // a late snapshot keeps the slow fields of earlier frames
    const book = new LevelBook();
    for (const m of bookMsgs) {
      if (m.type === 'snapshot') book.clear();
      for (const [p, s] of m.data.b as string[][]) book.apply('bid', p, s);
      for (const [p, s] of m.data.a as string[][]) book.apply('ask', p, s);
      expect(book.bids()[0].price).toBeLessThan(book.asks()[0].price);
    }
    expect(bookMsgs.length).toBeGreaterThan(3);
  });
});

describe('Binance replay', () => {
  it('SUBSCRIBE result, ping answered, only the subscribed streams, on the path they were recorded on, in order; exchangeInfo from the recording', async () => {
    const srv = await replay(FILE, 4);
    const market = await open(srv, '/binance/market/stream');
    market.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@markPrice@1s', 'btcusdt@depth20@100ms'], id: 1 }));
    expect(JSON.parse(await market.wait((t) => t.includes('"id":1')))).toEqual({ result: null, id: 1 });
    const pong = new Promise<void>((r) => market.ws.once('pong', () => r()));
    market.ws.ping();
    await pong;
    const pub = await open(srv, '/binance/public/stream');
    pub.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@depth20@100ms'], id: 2 }));
    await pub.wait((t) => t.includes('"id":2'));
    await playedOut(srv, 10_000);

    const marks = recorded('binance', '/binance/market/stream', (f) => f.stream === 'btcusdt@markPrice@1s').map((r) => r.text);
    const gotMarket = market.frames.filter((t) => t.startsWith('{"stream"'));
    expectTail(gotMarket, marks); // no optionMarkPrice (recorded, not subscribed), no depth (recorded on /public)
    const depth = recorded('binance', '/binance/public/stream', (f) => f.stream === 'btcusdt@depth20@100ms').map((r) => r.text);
    expectTail(pub.frames.filter((t) => t.startsWith('{"stream"')), depth);
    const info = lines.find((l) => l.venue === 'binance' && l.dir === 'rest')!.body;
    expect(await (await fetch(`${srv.url}/binance/rest/eapi/v1/exchangeInfo`)).json()).toEqual(info);
  });
});

describe('faults on replayed venues', () => {
  it('silent and drop scoped to one venue act on its replay and leave Deribit alone', async () => {
    const srv = await replay(FILE, 2, true);
    const fault = (body: unknown) => fetch(`${srv.url}/__sim/fault`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json() as Promise<Record<string, unknown>>);
    const okx = await open(srv, '/okx/ws/v5/public');
    okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'opt-summary', instFamily: 'BTC-USD' }] }));
    await okx.wait((t) => t.startsWith('{"arg"'), 8_000);
    const d = await TestClient.connect(srv.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2');
    try {
      await d.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
      await fault({ kind: 'silent', venue: 'okx' });
      await new Promise((r) => setTimeout(r, 150));
      const n = okx.frames.length;
      const m = d.msgs.length;
      await new Promise((r) => setTimeout(r, 1_200));
      expect(okx.frames.length).toBe(n);
      expect(d.msgs.length).toBeGreaterThan(m);
      await fetch(`${srv.url}/__sim/clear`, { method: 'POST' });
      await okx.wait(() => okx.frames.slice(n).some((t) => t.startsWith('{"arg"')), 8_000); // resumes
      expect((await fault({ kind: 'drop', venue: 'okx' })).dropped).toBe(1);
      expect(await okx.closed).toBe(1006);
      expect(d.closeCode).toBeUndefined();
    } finally {
      d.close();
    }
  });
});

describe('Deribit in a multi-venue recording', () => {
  it('still replays its notifications and answers from the same file', async () => {
    const srv = await replay(FILE, 4);
    const c = await TestClient.connect(srv.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2');
    try {
      await c.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
      const idx = await c.waitFor((m) => m.params?.channel === 'deribit_price_index.btc_usd', 5_000);
      expect(idx.params!.data).toMatchObject({ index_name: 'btc_usd' });
      expect(c.msgs.filter((m) => m.method === 'subscription').every((m) => m.params!.channel === 'deribit_price_index.btc_usd')).toBe(true);
      const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result as unknown[];
      expect(sum.length).toBeGreaterThan(50);
    } finally {
      c.close();
    }
  });
});

