/**
 * The tries of the December 2026 security review (../shared/reviews/security-review-2026-12.md) that
 * found a defect, as regression tests, with the review's number in each name; the cheap passing tries
 * are in security-tries.test.ts. The server runs in this process; `attack-load.test.ts` drives the
 * attacks against a server process while well-behaved clients measure it.
 */
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync, unlinkSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer, type ServerOptions } from './server.ts';
import { TestClient } from './testing/test-client.ts';
import { Conn } from './testing/venue-test-conn.ts';
import { rawRequest } from './testing/raw-http.ts';
import type { VenueSession } from './venues/session.ts';
import { BINANCE_SESSION } from './venues/binance/protocol.ts';
import { staysFor, waitFor } from '../test/wait.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
const PROTO_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];
let srv: RunningServer | undefined;
const open: { close(): void }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) c.close();
  await srv?.close();
  srv = undefined;
});

async function start(o: Partial<ServerOptions> = {}): Promise<RunningServer> {
  srv = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START, log: () => undefined, ...o });
  return srv;
}
const wsBase = () => srv!.url.replace('http', 'ws');
async function deribit(): Promise<TestClient> {
  const c = await TestClient.connect(wsBase() + '/deribit/ws/api/v2');
  open.push(c);
  return c;
}
async function venue(p: string): Promise<Conn> {
  const c = await Conn.open(wsBase() + p);
  open.push({ close: () => c.ws.terminate() });
  return c;
}
/** Throws every hub caught (none expected once the name tables are Maps). */
const caught = () => srv!.hub.errors.total + [...srv!.venues.hubs.values()].reduce((n, h) => n + h.errors.total, 0);
const frameCount = (c: Conn, pred: (t: string) => boolean) => c.frames.filter(pred).length;

describe('4a: prototype names (4.10-4.14)', () => {
  it('4.10-4.12: ticker, get_index_price and book channels named after Object.prototype are refused, not a crash', async () => {
    await start();
    const c = await deribit();
    for (const name of PROTO_NAMES) {
      expect((await c.call('public/ticker', { instrument_name: name })).error).toMatchObject({ code: -32602, data: { reason: 'instrument not found' } });
      expect((await c.call('public/get_index_price', { index_name: name })).error).toMatchObject({ code: -32602, data: { reason: 'unknown index' } });
      expect((await c.call('public/subscribe', { channels: [`book.${name}.100ms`, `book.${name}.none.10.100ms`] })).result).toEqual([]);
    }
    // 300 ms: three ticks over the sessions, none of which may throw on what was refused
    await staysFor('no throw caught, the caller connected', () => caught() === 0 && c.closeCode === undefined, 300);
    expect((await c.call('public/get_time')).result).toBeGreaterThan(START);
  });

  it('4.13-4.14: prototype-named subscriptions are refused on every venue, and a later client of each venue gets its data', async () => {
    await start();
    const d = await deribit();
    const chans = PROTO_NAMES.flatMap((n) => [`deribit_price_index.${n}`, `perpetual.${n}.100ms`, `estimated_expiration_price.${n}`, `markprice.options.${n}`, `ticker.${n}.100ms`]);
    expect((await d.call('public/subscribe', { channels: chans })).result).toEqual([]);

    const okx = await venue('/okx/ws/v5/public');
    const okxArgs = PROTO_NAMES.flatMap((n) => [
      { channel: 'mark-price', instId: n },
      { channel: 'index-tickers', instId: n },
      { channel: 'books', instId: n },
      { channel: 'opt-summary', instFamily: n },
      { channel: 'open-interest', instId: n },
    ]);
    okx.ws.send(JSON.stringify({ op: 'subscribe', args: okxArgs }));
    await okx.wait(() => frameCount(okx, (t) => t.includes('"code":"60018"')) === okxArgs.length);
    expect(frameCount(okx, (t) => t.includes('"event":"subscribe"'))).toBe(0);

    const bybit = await venue('/bybit/v5/public/linear');
    for (const n of PROTO_NAMES) bybit.ws.send(JSON.stringify({ op: 'subscribe', args: [`tickers.${n}`, `orderbook.50.${n}`, `orderbook.1.${n}`] }));
    await bybit.wait(() => frameCount(bybit, (t) => t.includes('"success":false')) === PROTO_NAMES.length);
    const bybitOpt = await venue('/bybit/v5/public/option');
    bybitOpt.ws.send(JSON.stringify({ op: 'subscribe', args: PROTO_NAMES.map((n) => `tickers.${n}`) }));
    expect(JSON.parse(await bybitOpt.wait((t) => t.includes('COMMAND_RESP'))).data).toEqual({ successTopics: [], failTopics: PROTO_NAMES.map((n) => `tickers.${n}`) });

    const binance = await venue('/binance/market/stream');
    const binanceNames = PROTO_NAMES.flatMap((n) => [`${n}@markPrice@1s`, `${n}@optionMarkPrice`, `${n}@depth5`, `${n}@optionOpenInterest@250328`]);
    // one request a name, paced under Binance's rate (BINANCE_SESSION) or the hub closes the attacker
    // before it is refused; the burst stays unspent as slack, since the server's bucket times frames as
    // it reads them, and a late-read burst followed by a frame on time would look too fast
    binanceNames.forEach((n, i) => setTimeout(() => binance.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: [n], id: i })), (i * 1_200) / BINANCE_SESSION.requestsPerSec));
    await binance.wait(() => frameCount(binance, (t) => t.includes('"code":2')) === binanceNames.length, 8_000);

    // clients that come after the attacker get their normal data on every venue
    const vd = await deribit();
    await vd.call('public/subscribe', { channels: ['deribit_price_index.btc_usd', 'book.BTC-PERPETUAL.100ms'] });
    const vo = await venue('/okx/ws/v5/public');
    vo.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'mark-price', instId: 'BTC-USDT-SWAP' }] }));
    const vb = await venue('/bybit/v5/public/linear');
    vb.ws.send(JSON.stringify({ op: 'subscribe', args: ['tickers.BTCUSDT'] }));
    const vn = await venue('/binance/market/stream');
    vn.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['btcusdt@markPrice@1s'], id: 1 }));
    await waitFor('data on every venue', () =>
      vd.notes('deribit_price_index.btc_usd').length > 8 &&
      frameCount(vo, (t) => t.includes('"markPx"')) > 4 &&
      frameCount(vb, (t) => t.includes('"topic":"tickers.BTCUSDT"')) > 4 &&
      frameCount(vn, (t) => t.includes('markPriceUpdate')) > 0, 10_000);
    expect(caught()).toBe(0);
  });

  it('a throw for one subscription is counted once per cause, logged once, and the sessions after it still get data (Deribit and venue hubs)', async () => {
    const lines: string[] = [];
    await start({ log: (l) => lines.push(l) });
    const attacker = await deribit();
    await attacker.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
    // a subscription whose frame cannot be built (what a prototype name did before the tables were Maps)
    const session = [...srv!.hub.sessions][0];
    session.subs.add('deribit_price_index.broken');
    (srv!.venues.protocols.get('deribit')!.source as unknown as { parsedCache: Map<string, unknown> }).parsedCache.set('deribit_price_index.broken', { t: 'index', c: 'XXX', every: 1 });
    const okxAttacker = await venue('/okx/ws/v5/public');
    okxAttacker.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }] }));
    await okxAttacker.wait((t) => t.includes('"event":"subscribe"'));
    const okxHub = srv!.venues.hubs.get('okx')!;
    const okxSession = [...okxHub.sessions][0];
    okxSession.subs.add('{"channel":"index-tickers","instId":"BTC-USDT"}');
    const sim = srv!.venues.protocols.get('okx')!.source as unknown as { frames(t: { instId?: string }, bad: boolean): string[] };
    const frames = sim.frames.bind(sim);
    sim.frames = (t, bad) => {
      if (t.instId === 'BTC-USDT') throw new Error('broken topic');
      return frames(t, bad);
    };

    const victim = await deribit();
    await victim.call('public/subscribe', { channels: ['deribit_price_index.btc_usd'] });
    const okxVictim = await venue('/okx/ws/v5/public');
    okxVictim.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }] }));
    await waitFor('the victims\' data and the broken topics\' throws of many ticks', () =>
      victim.notes('deribit_price_index.btc_usd').length > 8 &&
      frameCount(okxVictim, (t) => t.includes('"idxPx"')) > 3 &&
      (Object.values(srv!.hub.errors.snapshot())[0] ?? 0) > 8 &&
      (Object.values(okxHub.errors.snapshot())[0] ?? 0) > 3, 10_000);
    expect(Object.keys(srv!.hub.errors.snapshot())).toHaveLength(1); // every tick counted...
    expect(lines.filter((l) => l.startsWith('[deribit]'))).toHaveLength(1); // ...and logged once
    expect(lines.filter((l) => l.startsWith('[okx]'))).toHaveLength(1);
    const info = await (await fetch(srv!.url + '/__gexdesk/info')).json();
    expect(Object.keys(info.errors).sort()).toEqual(['deribit', 'okx']);
  });
});

describe('4b: budgets, caps and memory (4.9, 4.16-4.19, 4.22, 4.25, 4.29)', () => {
  it('4.9: set_heartbeat over the range is refused and the caller stays connected', async () => {
    await start();
    const c = await deribit();
    for (const interval of [3_000_000, 1e308]) expect((await c.call('public/set_heartbeat', { interval })).error).toMatchObject({ code: -32602, data: { param: 'interval' } });
    expect((await c.call('public/set_heartbeat', { interval: 30 })).result).toBe('ok');
    // 300 ms: three ticks, in which an interval that overflowed to ~0 would have sent a heartbeat
    await staysFor('no heartbeat, the caller connected', () => c.closeCode === undefined && !c.msgs.some((m) => m.method === 'heartbeat'), 300);
  });

  it('4.17: a flood of malformed frames spends credits like requests: 10028 and closed after the budget', async () => {
    await start();
    for (const frame of ['x', '{}']) {
      const c = await deribit();
      for (let i = 0; i < 2_000; i++) c.send(frame);
      expect(await c.closed).toBe(1000);
      const errors = c.msgs.filter((m) => m.error);
      expect(errors.length).toBeLessThan(130);
      expect(errors.at(-1)?.error?.code).toBe(10028);
    }
  });

  it('4.18: OKX and Bybit floods of malformed frames and pings are closed past the budget', async () => {
    await start();
    for (const [p, frame] of [
      ['/okx/ws/v5/public', 'x'],
      ['/okx/ws/v5/public', 'ping'],
      ['/bybit/v5/public/linear', 'x'],
      ['/bybit/v5/public/option', '{"op":"ping"}'],
    ]) {
      const c = await venue(p);
      for (let i = 0; i < 5_000; i++) c.ws.send(frame);
      expect(await c.closed).toBe(1008);
      expect(c.frames.length).toBeLessThanOrEqual(1_200);
    }
  });

  it('4.19: an OKX request of 34,000 bad args is answered with a bounded number of errors', async () => {
    await start();
    const c = await venue('/okx/ws/v5/public');
    c.ws.send(JSON.stringify({ op: 'subscribe', args: [...Array.from({ length: 34_000 }, () => 1), { channel: 'index-tickers', instId: 'BTC-USD' }] }));
    await c.wait((t) => t.includes('more args refused'));
    await c.wait((t) => t.includes('"event":"subscribe"'));
    await c.flushed(); // every answer to the request is in
    expect(c.frames.filter((t) => t.includes('"event":"error"')).length).toBe(21);
  });

  it('4.16: subscribes past their own credits get 10028 and the session ends', async () => {
    await start();
    const c = await deribit();
    for (let i = 0; i < 20; i++) c.send({ jsonrpc: '2.0', id: i, method: 'public/subscribe', params: { channels: ['deribit_price_index.btc_usd'] } });
    expect(await c.closed).toBe(1000);
    expect(c.msgs.filter((m) => Array.isArray(m.result)).length).toBe(10);
    expect(c.msgs.some((m) => m.error?.code === 10028)).toBe(true);
  });

  it('4.22: clients that make the server queue replies and never read are dropped at the byte cap', async () => {
    await start();
    const hard = srv!.hub.limits.hardBufferBytes;
    const sessions: VenueSession[] = [];
    for (let i = 0; i < 2; i++) {
      const c = await deribit();
      sessions.push([...srv!.hub.sessions].at(-1)!);
      (c.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // each summary is ~0.4 MB: 40 of them would be 16 MB queued for a client that reads nothing
      for (let k = 0; k < 40; k++) c.send({ jsonrpc: '2.0', id: k, method: 'public/get_book_summary_by_currency', params: { currency: 'BTC', kind: 'option' } });
    }
    await waitFor('both clients dropped', () => srv!.stats().closedSlow >= 2, 5_000);
    const st = srv!.stats();
    expect(st.closedSlow).toBe(2);
    expect(srv!.hub.sessions.size).toBe(0);
    // the most one client ever had queued: the cap plus the one reply that crossed it
    const summaryBytes = JSON.stringify((await (await deribit()).call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result).length;
    expect(sessions).toHaveLength(2);
    for (const s of sessions) {
      expect(s.closedSlow).toBe(true);
      expect(s.maxBuffered).toBeLessThan(hard + 2 * summaryBytes);
    }
  });

  it('4.22: the oversize fault\'s own 10 MB frame does not get a client dropped for replies queued behind it', async () => {
    await start();
    const c = await deribit();
    const socket = (c.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    expect((await (await fetch(srv!.url + '/__sim/fault', { method: 'POST', body: '{"kind":"oversize"}' })).json()).sent).toBe(1);
    const reply = c.call('public/get_time');
    // the reply is queued behind the 10 MB frame once the server has read the request
    await waitFor('the server to read the request', () => srv!.hub.requestLog.some((r) => r.method === 'public/get_time'), 5_000);
    socket.resume();
    expect(typeof (await reply).result).toBe('number');
    expect(c.raw.some((x) => x.length >= 10 * 1024 * 1024)).toBe(true);
    expect(c.closeCode).toBeUndefined();
    expect(srv!.stats().closedSlow).toBe(0);
  });

  it('4.25: grouped books take only the documented groups, channels per session are capped, and grouped frames are built once a step', async () => {
    await start();
    const c = await deribit();
    const r = await c.call('public/subscribe', { channels: ['book.BTC-PERPETUAL.3.20.100ms', 'book.BTC-PERPETUAL.25.20.100ms', 'book.ETH-PERPETUAL.2.20.100ms', 'book.BTC-PERPETUAL.5.20.100ms', 'book.ETH-PERPETUAL.5.10.100ms', 'book.BTC-PERPETUAL.none.1.agg2'] });
    expect(r.result).toEqual(['book.BTC-PERPETUAL.5.20.100ms', 'book.ETH-PERPETUAL.5.10.100ms', 'book.BTC-PERPETUAL.none.1.agg2']);
    const eth = (await c.waitFor((m) => m.params?.channel === 'book.ETH-PERPETUAL.5.10.100ms')).params!.data as { bids: [number, number][] };
    // ETH groups are hundredths: `5` groups by 0.05
    for (const [px] of eth.bids) expect(Math.abs(px * 20 - Math.round(px * 20))).toBeLessThan(1e-9);
    const btc = (await c.waitFor((m) => m.params?.channel === 'book.BTC-PERPETUAL.5.20.100ms')).params!.data as { bids: [number, number][] };
    for (const [px] of btc.bids) expect(px % 5).toBe(0);

    // up to the cap, then refused with a reason
    const names = ((await c.call('public/get_instruments', { currency: 'BTC', kind: 'option' })).result as { instrument_name: string }[]).map((x) => x.instrument_name);
    const max = srv!.hub.limits.maxChannels;
    const tickers = names.flatMap((n) => [`ticker.${n}.100ms`, `ticker.${n}.agg2`]).slice(0, max - 3);
    let acked = 0;
    // in calls of 250: a request is at most 16 KiB
    for (let i = 0; i < tickers.length; i += 250) acked += ((await c.call('public/subscribe', { channels: tickers.slice(i, i + 250) })).result as string[]).length;
    expect(acked).toBe(max - 3);
    const over = await c.call('public/subscribe', { channels: [`ticker.${names[0]}.raw`, `ticker.${names[1]}.raw`] });
    expect(over.error).toMatchObject({ code: -32602, data: { reason: expect.stringContaining(`at most ${max}`) } });
    expect(c.closeCode).toBeUndefined();
  });

  it('4.29: /__gexdesk/info counts every venue\'s sessions', async () => {
    await start();
    await deribit();
    await venue('/okx/ws/v5/public');
    await venue('/bybit/v5/public/option');
    await venue('/bybit/v5/public/linear');
    await venue('/binance/public/stream');
    const info = await waitFor('five connections counted', async () => {
      const i = await (await fetch(srv!.url + '/__gexdesk/info')).json();
      return i.connections === 5 && i;
    }, 5_000);
    expect(info.sessions).toEqual({ deribit: 1, okx: 1, bybit: 2, binance: 1 });
    expect(info.errors).toEqual({});
  });
});

describe('2: live REST relay (2.13-2.16)', () => {
  const spy = (answer: (url: string) => Response | Promise<Response>) => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return answer(url);
    }) as unknown as typeof fetch;
    return { calls, fetchImpl };
  };
  const relay = '/live/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD';

  it('2.14: a cross-site request does not reach the relay (Origin, or Sec-Fetch-Site on no-cors requests)', async () => {
    const { calls, fetchImpl } = spy(() => new Response('{"code":"0","data":[]}'));
    await start({ fetchImpl });
    const refused: Record<string, string>[] = [{ Origin: 'https://evil.example' }, { 'Sec-Fetch-Site': 'cross-site', 'Sec-Fetch-Mode': 'no-cors' }, { 'Sec-Fetch-Site': 'same-site' }, { Origin: 'null' }];
    for (const headers of refused) {
      const r = await fetch(srv!.url + relay, { headers });
      expect(r.status).toBe(403);
    }
    // nor the simulator's own pass-through
    expect((await fetch(srv!.url + '/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD', { headers: { 'Sec-Fetch-Site': 'cross-site' } })).status).toBe(403);
    expect(calls).toEqual([]);
    // the app's own calls: same-origin, a typed URL, a tool without the header, an allowed local dev origin
    const allowed: Record<string, string>[] = [{ 'Sec-Fetch-Site': 'same-origin' }, { 'Sec-Fetch-Site': 'none' }, {}, { Origin: 'http://localhost:5173', 'Sec-Fetch-Site': 'cross-site' }];
    // no pacing: the relay's bucket holds 5 calls, and the refused requests above spent none of it
    for (const headers of allowed) expect((await fetch(srv!.url + relay, { headers })).status).toBe(200);
    expect(calls).toHaveLength(4);
  });

  it('2.13: invalid calls spend no token', async () => {
    const { calls, fetchImpl } = spy(() => new Response('{"code":"0","data":[]}'));
    await start({ fetchImpl });
    for (let i = 0; i < 8; i++) expect((await fetch(srv!.url + relay.replace('BTC-USD', 'BTC%0d%0aX:1'))).status).toBe(400);
    expect((await fetch(srv!.url + relay)).status).toBe(200);
    expect(calls).toHaveLength(1);
  });

  it('2.15: a redirect is followed on the venue host only', async () => {
    const { calls, fetchImpl } = spy((url) => {
      if (url.includes('/moved')) return new Response('{"code":"0","data":["moved"]}');
      if (url.includes('instFamily=BTC-USD')) return new Response(null, { status: 301, headers: { location: '/api/v5/public/moved?instType=OPTION' } });
      return new Response(null, { status: 302, headers: { location: 'https://evil.example/api' } });
    });
    await start({ fetchImpl });
    const same = await fetch(srv!.url + relay);
    expect(await same.json()).toEqual({ code: '0', data: ['moved'] });
    const off = await fetch(srv!.url + relay.replace('BTC-USD', 'ETH-USD'));
    expect(off.status).toBe(502);
    expect(await off.json()).toEqual({ error: 'upstream redirected off the venue host' });
    expect(calls.some((u) => u.includes('evil.example'))).toBe(false);
  });

  it('2.16: an answer over 16 MB is cut off as it streams in, not buffered whole', async () => {
    let pulled = 0;
    const { fetchImpl } = spy(
      () =>
        new Response(
          new ReadableStream({
            pull(ctl) {
              pulled += 1;
              ctl.enqueue(new Uint8Array(1024 * 1024).fill(32));
            },
          }),
        ),
    );
    await start({ fetchImpl });
    const r = await fetch(srv!.url + relay);
    expect(r.status).toBe(502);
    expect(await r.json()).toEqual({ error: 'upstream answer too large' });
    expect(pulled).toBeLessThan(20);
  });
});

describe('3: control endpoints (3.5, 3.10)', () => {
  it('3.5: DNS rebinding: a Host that is not this server is refused on every request and upgrade', async () => {
    await start();
    const port = srv!.port;
    for (const h of [`evil.test:${port}`, `attacker.example:${port}`, `127.0.0.1.evil.test:${port}`]) {
      const headers = { Host: h, Origin: `http://${h}`, 'Content-Type': 'text/plain' };
      expect((await rawRequest(srv!.url, { path: '/__gexdesk/info', headers })).status).toBe(400);
      expect((await rawRequest(srv!.url, { method: 'POST', path: '/__sim/fault', headers, body: '{"kind":"silent"}' })).status).toBe(400);
      expect((await rawRequest(srv!.url, { method: 'POST', path: '/__sim/pause', headers })).status).toBe(400);
      await expect(TestClient.connect(wsBase() + '/deribit/ws/api/v2', { Host: h, Origin: `http://${h}` })).rejects.toThrow('HTTP 400');
    }
    expect(srv!.faults.list()).toEqual([]);
    expect(srv!.clock.paused).toBe(false);
    // loopback names, IP literals and localhost subdomains are this server
    for (const h of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `app.localhost:${port}`, `LOCALHOST.:${port}`]) expect((await rawRequest(srv!.url, { path: '/__gexdesk/info', headers: { Host: h } })).status).toBe(200);
  });

  it('3.5: --allow-host adds a name (a desk reaching the server by the machine name)', async () => {
    await start({ allowedHosts: ['deskbox'] });
    expect((await rawRequest(srv!.url, { path: '/__gexdesk/info', headers: { Host: `deskbox:${srv!.port}` } })).status).toBe(200);
    expect((await rawRequest(srv!.url, { path: '/__gexdesk/info', headers: { Host: `other:${srv!.port}` } })).status).toBe(400);
  });

  it('3.10: expireAt far ahead is refused at once; a listed expiry a year out is reached in bounded time', async () => {
    await start();
    const post = (body: unknown) => fetch(srv!.url + '/__sim/fault', { method: 'POST', headers: { Origin: 'http://localhost:5173' }, body: JSON.stringify(body) });
    const t0 = Date.now();
    for (const expiryMs of [START + 30 * 86_400_000, 4102444800000, 1e15]) {
      const r = await post({ kind: 'expireAt', expiryMs });
      expect(r.status).toBe(400);
      expect((await r.json()).error).toMatch(/listed expiry or at most 7 days ahead/);
    }
    expect(Date.now() - t0).toBeLessThan(1_000);
    const far = srv!.sim!.listedExpiries().at(-1)!;
    expect(far - START).toBeGreaterThan(200 * 86_400_000);
    const t1 = Date.now();
    const r = await post({ kind: 'expireAt', expiryMs: far });
    expect(r.status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(2_000);
    expect(srv!.sim!.timeMs).toBeGreaterThanOrEqual(far);
    expect((await fetch(srv!.url + '/__gexdesk/info')).status).toBe(200);
    // a few days past the nearest expiry, not listed, is a bounded jump
    expect((await post({ kind: 'expireAt', expiryMs: srv!.sim!.timeMs + 3 * 86_400_000 })).status).toBe(200);
  });
});

describe('1: static files (1.22, 1.23)', () => {
  function dist(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-static-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    mkdirSync(path.join(dir, 'assets'));
    return dir;
  }

  it.runIf(process.platform === 'linux')('1.22: a file that fails mid-read ends that response, not the server', async () => {
    const dir = dist();
    symlinkSync('/proc/self/mem', path.join(dir, 'bad.txt')); // a regular file to stat, EIO to read
    await start({ serveDir: dir });
    await fetch(srv!.url + '/bad.txt').then((r) => r.text()).catch(() => 'failed');
    expect((await fetch(srv!.url + '/')).status).toBe(200);
  });

  it('1.23: files replaced while served (a rebuild of dist/) never take the server down', async () => {
    const dir = dist();
    const file = path.join(dir, 'assets', 'churn.js');
    writeFileSync(file, 'x'.repeat(200_000));
    await start({ serveDir: dir });
    let stop = false;
    const churn = (async () => {
      for (let i = 0; !stop; i++) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
        await new Promise((r) => setImmediate(r));
        writeFileSync(file + '.tmp', 'y'.repeat(100_000 + (i % 7) * 10_000));
        renameSync(file + '.tmp', file);
        await new Promise((r) => setImmediate(r));
      }
    })();
    const statuses = new Set<number>();
    for (let i = 0; i < 300; i++) statuses.add(await fetch(srv!.url + '/assets/churn.js').then(async (r) => (await r.arrayBuffer(), r.status)).catch(() => 0));
    stop = true;
    await churn;
    expect([...statuses].every((s) => s === 200 || s === 404 || s === 0)).toBe(true);
    expect((await fetch(srv!.url + '/')).status).toBe(200);
  });
});
