/** OKX protocol of the local server, checked with the OKX client's own parsers. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Conn } from '../../testing/venue-test-conn.ts';
import { startServer, type RunningServer } from '../../server.ts';
import { okxBookChecksum, parseOkxBookSnapshot, parseOkxMessage, parseOkxOptionInstruments, parseOkxSwapSpec, type OkxMessage } from '../../../src/feeds/okx/parse.ts';
import { LevelBook } from '../../../src/feeds/level-book.ts';
import { createVenues } from '../registry.ts';
import { FaultState } from '../../faults/state.ts';
import { MarketSim } from '../../sim/market.ts';
import { SimClock } from '../../clock.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);

describe('OKX on the local server', () => {
  let server: RunningServer;
  let ws: string;
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 7, port: 0, startMs: START_MS, log: () => undefined });
    ws = server.url.replace(/^http/, 'ws') + '/okx/ws/v5/public';
  });
  afterAll(async () => server?.close());

  it('lists its own option chain over the REST pass-through, in OKX units', async () => {
    const body = await (await fetch(`${server.url}/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD`)).json();
    const r = parseOkxOptionInstruments(body, 'BTC');
    expect(r.error).toBeNull();
    expect(r.drops).toEqual([]);
    expect(r.list.length).toBeGreaterThan(100);
    expect(r.list.every((i) => i.multiplier === 0.1)).toBe(true);
    // a subset of the simulator's (Deribit) chain: fewer lines, the farthest expiry not listed
    const deribit = server.sim!.instruments('BTC');
    expect(r.list.length).toBeLessThan(deribit.length);
    const far = Math.max(...deribit.map((d) => d.expiryMs));
    expect(r.list.some((i) => i.expiryMs === far)).toBe(false);
    expect(r.list.every((i) => new Date(i.expiryMs).getUTCHours() === 8)).toBe(true);
    const swap = await (await fetch(`${server.url}/okx/rest/api/v5/public/instruments?instType=SWAP&instId=BTC-USDT-SWAP`)).json();
    expect(parseOkxSwapSpec(swap, 'BTC-USDT-SWAP', 'BTC')).toEqual({ instId: 'BTC-USDT-SWAP', coinPerContract: 0.01 });
    const other = await fetch(`${server.url}/okx/rest/api/v5/market/tickers?instType=OPTION`);
    expect(other.status).toBe(404);
  });

  it('lists the USD-margined family too: its own names, 0.01 BTC contracts settled in USD, opt-summary and OI on them', async () => {
    const body = await (await fetch(`${server.url}/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD_UM`)).json();
    const r = parseOkxOptionInstruments(body, 'BTC', 'BTC-USD_UM');
    expect(r.error).toBeNull();
    expect(r.drops).toEqual([]);
    expect(r.list.length).toBeGreaterThan(50);
    expect(r.list.every((i) => i.name.startsWith('BTC-USD_UM-') && i.multiplier === 0.01 && i.settleCurrency === 'USD' && i.family === 'BTC-USD_UM')).toBe(true);
    // a listing of its own: fewer lines than the coin family's, on the same market
    const coin = parseOkxOptionInstruments(await (await fetch(`${server.url}/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD`)).json(), 'BTC').list;
    expect(r.list.length).toBeLessThan(coin.length);
    const c = await Conn.open(ws);
    const one = r.list[Math.floor(r.list.length / 2)].name;
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'opt-summary', instFamily: 'BTC-USD_UM' }, { channel: 'open-interest', instId: one }] }));
    const ctx = { multipliers: new Map(r.list.map((i) => [i.name, i.multiplier])) };
    const summary = parseOkxMessage(JSON.parse(await c.wait((t) => t.includes('"opt-summary"') && t.includes('"data"'), 8_000)), ctx);
    if (summary.kind !== 'options') throw new Error('no summary');
    expect(summary.drops).toEqual([]);
    expect(summary.updates.every((u) => u.name.startsWith('BTC-USD_UM-'))).toBe(true);
    const oi = parseOkxMessage(JSON.parse(await c.wait((t) => t.includes('"open-interest"') && t.includes('"data"'), 8_000)), ctx);
    if (oi.kind !== 'options') throw new Error('no oi');
    expect(oi.multiplierMismatch).toEqual([]);
    // oiCcy / oi is the listed 0.01 BTC (else the mismatch would be reported)
    expect(oi.updates).toEqual([expect.objectContaining({ name: one })]);
    expect(oi.updates[0].openInterest).toBeGreaterThanOrEqual(0);
    c.ws.close();
  });

  it('answers ping with pong, acks each arg, errors on unknown ones, and pushes parseable data', async () => {
    const c = await Conn.open(ws);
    c.ws.send('ping');
    expect(await c.wait((t) => t === 'pong')).toBe('pong');
    const insts = parseOkxOptionInstruments(await (await fetch(`${server.url}/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD`)).json(), 'BTC').list;
    const one = insts[Math.floor(insts.length / 2)].name;
    c.ws.send(
      JSON.stringify({
        op: 'subscribe',
        args: [
          { channel: 'opt-summary', instFamily: 'BTC-USD' },
          { channel: 'index-tickers', instId: 'BTC-USD' },
          { channel: 'open-interest', instId: one },
          { channel: 'mark-price', instId: 'BTC-USDT-SWAP' },
          { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' },
          { channel: 'books', instId: 'BTC-USDT-SWAP' },
          { channel: 'open-interest', instId: 'BTC-USD-991231-1-C' },
        ],
      }),
    );
    const acks = () => c.frames.filter((t) => t.startsWith('{"event":"subscribe"'));
    await c.wait(() => acks().length === 6);
    for (const a of acks()) expect(parseOkxMessage(JSON.parse(a), { multipliers: new Map() }).kind).toBe('subscribed');
    const err = JSON.parse(await c.wait((t) => t.includes('"event":"error"')));
    expect(err.code).toBe('60018');
    expect(parseOkxMessage(err, { multipliers: new Map() })).toMatchObject({ kind: 'error', code: 60018 });

    const ctx = { multipliers: new Map(insts.map((i) => [i.name, i.multiplier])) };
    const parsed = (pred: (m: OkxMessage) => boolean) =>
      c.wait((t) => {
        if (t === 'pong') return false;
        return pred(parseOkxMessage(JSON.parse(t), ctx));
      }, 8_000).then((t) => parseOkxMessage(JSON.parse(t), ctx));
    const summary = await parsed((m) => m.kind === 'options' && m.forwards.length > 0);
    if (summary.kind !== 'options') throw new Error('no summary');
    expect(summary.drops).toEqual([]);
    const u = summary.updates[0];
    expect(u.markIv).toBeGreaterThan(0.1);
    expect(u.markIv).toBeLessThan(3);
    const spot = server.sim!.index('BTC');
    expect(u.forward! / spot).toBeGreaterThan(0.98);
    expect(u.forward! / spot).toBeLessThan(1.2);
    const oi = await parsed((m) => m.kind === 'options' && m.updates.some((x) => x.openInterest !== undefined));
    if (oi.kind !== 'options') throw new Error('no oi');
    expect(oi.multiplierMismatch).toEqual([]);
    expect(oi.updates[0].name).toBe(one);
    expect(oi.updates[0].openInterest).toBeGreaterThanOrEqual(0);
    const idx = await parsed((m) => m.kind === 'index');
    expect(idx).toMatchObject({ kind: 'index', instId: 'BTC-USD' });
    if (idx.kind === 'index') expect(Math.abs(idx.price / spot - 1)).toBeLessThan(0.01);
    expect(await parsed((m) => m.kind === 'perpMark')).toMatchObject({ instId: 'BTC-USDT-SWAP' });
    const fund = await parsed((m) => m.kind === 'perpFunding');
    if (fund.kind === 'perpFunding') expect(Math.abs(fund.funding8h)).toBeLessThan(0.01);

    // the book as OKX serves it since 2026: no pushed snapshot, checksum 0; the REST snapshot's seqId is
    // where the pushed updates continue
    const snapBody = await (await fetch(`${server.url}/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400`)).json();
    const snap = parseOkxBookSnapshot(snapBody);
    if (!('snapshot' in snap)) throw new Error(JSON.stringify(snap));
    expect(snap.snapshot.bids.length).toBeGreaterThan(50);
    expect(snap.snapshot.seqId).not.toBeNull();
    const book = new LevelBook();
    for (const [p, z] of snap.snapshot.bids) book.apply('bid', p, z);
    for (const [p, z] of snap.snapshot.asks) book.apply('ask', p, z);
    let last: number | null = null;
    let checked = 0;
    await c.wait((t) => {
      if (!t.includes('"channel":"books"') || t.includes('"event"')) return false;
      const m = parseOkxMessage(JSON.parse(t), ctx);
      if (m.kind !== 'book') return false;
      expect(m.action).toBe('update');
      expect(JSON.parse(t).data[0].checksum).toBe(0);
      if (m.seqId! <= snap.snapshot.seqId!) return false; // contained in the snapshot
      if (last === null) expect(m.prevSeqId!).toBeLessThanOrEqual(snap.snapshot.seqId!);
      else expect(m.prevSeqId).toBe(last);
      for (const [p, z] of m.bids) book.apply('bid', p, z);
      for (const [p, z] of m.asks) book.apply('ask', p, z);
      last = m.seqId;
      return ++checked >= 6;
    }, 8_000);
    // the book built from snapshot + updates is the venue's: a later snapshot at the same seqId agrees
    await fetch(`${server.url}/__sim/pause`, { method: 'POST' });
    try {
      await new Promise((r) => setTimeout(r, 400)); // the paused step's update goes out
      const again = parseOkxBookSnapshot(await (await fetch(`${server.url}/okx/rest/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400`)).json());
      if (!('snapshot' in again)) throw new Error('no snapshot');
      for (const t of c.frames) {
        if (!t.includes('"channel":"books"') || t.includes('"event"')) continue;
        const m = parseOkxMessage(JSON.parse(t), ctx);
        if (m.kind !== 'book' || m.seqId! <= last! || m.seqId! > again.snapshot.seqId!) continue;
        expect(m.prevSeqId).toBe(last);
        for (const [p, z] of m.bids) book.apply('bid', p, z);
        for (const [p, z] of m.asks) book.apply('ask', p, z);
        last = m.seqId;
      }
      expect(last).toBe(again.snapshot.seqId);
      const top = (l: { priceText: string; sizeText: string }[]) => l.slice(0, 400).map((x) => [x.priceText, x.sizeText]);
      expect(top(book.bids())).toEqual(again.snapshot.bids);
      expect(top(book.asks())).toEqual(again.snapshot.asks);
    } finally {
      await fetch(`${server.url}/__sim/resume`, { method: 'POST' });
    }
    c.ws.close();
  });

  it('gap fault breaks the seqId chain once; malformed and silent are honoured, scoped by venue', async () => {
    const c = await Conn.open(ws);
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'books', instId: 'ETH-USDT-SWAP' }, { channel: 'index-tickers', instId: 'ETH-USD' }] }));
    await c.wait((t) => t.includes('"action":"update"'));
    const post = (body: unknown) => fetch(`${server.url}/__sim/fault`, { method: 'POST', body: JSON.stringify(body) }).then((r) => r.json());
    await post({ kind: 'gap' });
    const bad = await c.wait((t) => {
      if (!t.includes('"action":"update"')) return false;
      const d = JSON.parse(t).data[0];
      return d.prevSeqId !== d.seqId - 1 && d.prevSeqId !== undefined && d.seqId - d.prevSeqId !== 1;
    });
    expect(JSON.parse(bad).data[0].seqId - JSON.parse(bad).data[0].prevSeqId).toBeGreaterThan(1);

    await post({ kind: 'malformed' });
    await c.wait((t) => t === '{}' || t === 'null' || t === '[]');
    await post({ kind: 'silent', venue: 'bybit' }); // another venue's silence: OKX keeps talking
    await fetch(`${server.url}/__sim/clear`, { method: 'POST' });
    await post({ kind: 'silent', venue: 'bybit' });
    const n = c.frames.length;
    await new Promise((r) => setTimeout(r, 400));
    expect(c.frames.length).toBeGreaterThan(n);
    await post({ kind: 'silent', venue: 'okx' });
    await new Promise((r) => setTimeout(r, 150));
    const m = c.frames.length;
    c.ws.send('ping');
    await new Promise((r) => setTimeout(r, 400));
    expect(c.frames.length).toBe(m);
    await fetch(`${server.url}/__sim/clear`, { method: 'POST' });
    const info = await (await fetch(`${server.url}/__gexdesk/info`)).json();
    expect(info.venues).toContain('okx');
    await post({ kind: 'drop', venue: 'okx' });
    expect(await c.closed).toBe(1006);
  });
});

describe('OKX books before 2026 (--okx-books legacy)', () => {
  it('a snapshot on subscribe, then updates whose seqIds chain and whose CRC32 checksums match the book', async () => {
    const legacy = await startServer({ source: 'sim', seed: 7, port: 0, startMs: START_MS, okxBooks: 'legacy', log: () => undefined });
    try {
      const c = await Conn.open(legacy.url.replace(/^http/, 'ws') + '/okx/ws/v5/public');
      c.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'books', instId: 'BTC-USDT-SWAP' }] }));
      const book = new LevelBook();
      let last: number | null = null;
      let checked = 0;
      const ctx = { multipliers: new Map<string, number>() };
      await c.wait((t) => {
        if (!t.includes('"channel":"books"') || t.includes('"event"')) return false;
        const m = parseOkxMessage(JSON.parse(t), ctx);
        if (m.kind !== 'book') return false;
        if (checked === 0) expect(m.action).toBe('snapshot');
        if (m.action === 'snapshot') book.clear();
        else expect(m.prevSeqId).toBe(last);
        for (const [p, s] of m.bids) book.apply('bid', p, s);
        for (const [p, s] of m.asks) book.apply('ask', p, s);
        expect(okxBookChecksum(book.bids(), book.asks())).toBe(m.checksum);
        last = m.seqId;
        return ++checked >= 6;
      }, 8_000);
      c.ws.close();
    } finally {
      await legacy.close();
    }
  });
});

describe('OKX live REST relay', () => {
  it('relays the book snapshot call (instId and sz only) to www.okx.com, never the simulator', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return new Response('{"code":"0","data":[{"asks":[],"bids":[],"ts":"1","seqId":1}]}', { status: 200 });
    }) as unknown as typeof fetch;
    const sim = new MarketSim({ seed: 42, startMs: START_MS });
    const v = createVenues({ sim: { sim, clock: new SimClock(START_MS, 1) }, faults: new FaultState(), fetchImpl });
    const r = await v.rest('/live/okx/rest/api/v5/market/books', new URLSearchParams('instId=BTC-USDT-SWAP&sz=400&evil=1'))!;
    expect(r.status).toBe(200);
    expect(calls).toEqual(['https://www.okx.com/api/v5/market/books?instId=BTC-USDT-SWAP&sz=400']);
    const local = await v.rest('/okx/rest/api/v5/market/books', new URLSearchParams('instId=BTC-USDT-SWAP&sz=5'))!;
    expect(calls).toHaveLength(1);
    expect((local.body as { data: { bids: unknown[] }[] }).data[0].bids).toHaveLength(5);
  });
});
