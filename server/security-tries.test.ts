/**
 * The December 2026 security review's tries that held (../shared/reviews/security-review-2026-12.md),
 * kept as tests so they go on holding; the review's number is in each name. Those that found a defect
 * are in security-review.test.ts.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DEFAULT_MAX_CONNECTIONS_PER_IP, startServer, type RunningServer, type ServerOptions } from './server.ts';
import { DERIBIT_SESSION, MAX_HEARTBEAT_S } from './venues/deribit/protocol.ts';
import { DEFAULT_SEND_LIMITS } from './venues/client-socket.ts';
import { OKX_SESSION } from './venues/okx/protocol.ts';
import { BYBIT_SESSION } from './venues/bybit/protocol.ts';
import { BINANCE_SESSION } from './venues/binance/protocol.ts';
import { createVenues } from './venues/registry.ts';
import { FaultState } from './faults/state.ts';
import { TestClient } from './testing/test-client.ts';
import { Conn } from './testing/venue-test-conn.ts';
import { headEnded, rawRequest, rawSocket } from './testing/raw-http.ts';
import { waitFor } from '../test/wait.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
const INDEX = '<!doctype html><title>app</title>';
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
const wsUrl = (p = '/deribit/ws/api/v2') => srv!.url.replace('http', 'ws') + p;
async function deribit(): Promise<TestClient> {
  const c = await TestClient.connect(wsUrl());
  open.push(c);
  return c;
}
async function venue(p: string): Promise<Conn> {
  const c = await Conn.open(wsUrl(p));
  open.push({ close: () => c.ws.terminate() });
  return c;
}

describe('1: static files', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-tries-'));
    writeFileSync(path.join(dir, 'index.html'), INDEX);
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
  });
  const get = (p: string, method = 'GET') => rawRequest(srv!.url, { method, path: p });

  it('1.1-1.14: traversal in every encoding stays inside the served folder', async () => {
    await start({ serveDir: dir });
    const app = [
      '/../../../../etc/passwd', // 1.1
      '/%2e%2e/%2e%2e/etc/passwd', // 1.2
      '/..%2f..%2f..%2fetc%2fpasswd', // 1.3
      '/%252e%252e%252fetc%252fpasswd', // 1.4
      '/..\\..\\..\\etc\\passwd', // 1.5
      '//etc/passwd', // 1.7
      '/%2fetc%2fpasswd',
      'http://evil/../../etc/passwd', // 1.11
      'file:///etc/passwd',
      '*',
      '/assets/', // 1.13
      '/assets',
      '/.git/config', // 1.14
      '/index.html/',
    ];
    for (const p of app) {
      const r = await get(p);
      expect([p, r.status, r.body]).toEqual([p, 200, INDEX]);
    }
    for (const p of ['/..%5c..%5c..%5cetc%5cpasswd', '/assets/..%2f..%2fpackage.json', '/assets/%2e%2e/%2e%2e/package.json', '/favicon.svg%2f..%2f..%2fpackage.json', '/..%2f..%2fserver%2fmain.ts']) {
      expect([p, (await get(p)).status]).toEqual([p, 404]); // 1.6, 1.10
    }
    for (const p of ['/etc/passwd%00.js', '/index.html%00', '/%c0%ae%c0%ae/etc/passwd', '/%ff', '/%']) expect([p, (await get(p)).status]).toEqual([p, 400]); // 1.8, 1.9
    expect(await rawSocket(srv!.url, 'GET ../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/); // 1.12
    expect(await rawSocket(srv!.url, 'GET /\0 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')).toMatch(/^HTTP\/1\.1 400/);
    expect((await get('/assets/app.js')).body).toBe('console.log(1)');
  });

  it('1.15: long paths: an app page, 431 past the header cap, no file-name error', async () => {
    await start({ serveDir: dir });
    expect((await get('/' + 'a'.repeat(19_000))).status).toBe(200);
    expect(await rawSocket(srv!.url, `GET /${'a'.repeat(25_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431/);
    expect((await get('/' + '../'.repeat(5_000))).status).toBe(200);
    expect((await get('/' + 'b'.repeat(300) + '.js')).status).toBe(404);
    expect((await get('/' + 'b'.repeat(300))).status).toBe(200);
  });

  it('1.16-1.19: HEAD, methods, CONNECT and the security headers on every answer', async () => {
    await start({ serveDir: dir });
    for (const p of ['/', '/__gexdesk/info']) {
      const r = await get(p, 'HEAD');
      expect([r.status, r.body]).toEqual([200, '']);
    }
    for (const m of ['OPTIONS', 'POST', 'PUT', 'DELETE', 'TRACE', 'PATCH']) expect([m, (await get('/', m)).status]).toEqual([m, 405]);
    const pre = await rawRequest(srv!.url, { method: 'OPTIONS', path: '/__sim/fault', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(pre.status).toBe(405);
    expect(Object.keys(pre.headers).some((h) => h.startsWith('access-control-'))).toBe(false);
    expect(await rawSocket(srv!.url, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n', 1_000)).not.toMatch(/^HTTP\/1\.1 200/); // 1.18
    for (const p of ['/', '/%ff', '/assets/none.js', '/__sim/x']) {
      const h = (await get(p)).headers;
      expect(h['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(h['content-security-policy']).toContain("object-src 'none'");
      expect(h['x-content-type-options']).toBe('nosniff');
      expect(h['referrer-policy']).toBe('no-referrer');
      expect(h['cross-origin-opener-policy']).toBe('same-origin');
      expect(h['cross-origin-embedder-policy']).toBe('require-corp');
      expect(h['cross-origin-resource-policy']).toBe('same-origin');
    }
    // 1.20: a Host with CSP syntax is not reflected into the policy (and is not this server)
    expect((await rawRequest(srv!.url, { path: '/', headers: { Host: "a;script-src *" } })).status).toBe(400);
  });
});

describe('2: live REST relay', () => {
  function venues() {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return new Response('{"code":"0","data":[]}');
    }) as unknown as typeof fetch;
    return { v: createVenues({ faults: new FaultState(), fetchImpl }), calls };
  }
  const okx = '/live/okx/rest/api/v5/public/instruments';

  it('2.2-2.11: only the allow-listed path, only its keys, values checked and re-encoded', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return new Response('{"code":"0","data":[]}');
    }) as unknown as typeof fetch;
    await start({ fetchImpl });
    const get = (p: string) => rawRequest(srv!.url, { path: p });
    expect((await get(`${okx}/../../../../api/v5/account/balance`)).status).toBe(404); // 2.2
    for (const p of [`${okx}%2f..%2f..%2faccount%2fbalance`, '/live/okx/rest//api/v5/public/instruments', '/live/okx/rest/api/v5/public/Instruments', '/live/okx/rest/api/v5/public/%69nstruments', '/live/okx/rest/api/v5/market/tickers']) expect([p, (await get(p)).status]).toEqual([p, 404]); // 2.3
    for (const p of ['/live/okx/rest@evil.test/api/v5/public/instruments', '/live/deribit/rest/api/v2/public/get_time']) expect((await get(p)).body).toContain('gexdesk local venue server'); // 2.4: not a relay path
    for (const v of ['BTC-USD%26instType%3DSWAP', 'BTC%0d%0aX-Evil:1', '', '%C3%A9', 'A'.repeat(101)]) expect([v, (await get(`${okx}?instType=OPTION&instFamily=${v}`)).status]).toEqual([v, 400]); // 2.5
    expect((await get(`${okx}?instId=..%2F..%2Fx`)).status).toBe(400); // 2.9
    expect(calls).toEqual([]);
    // no pacing: OKX's relay bucket holds 5 calls, and the refused ones above spent none of it
    await get(`${okx}?instType=OPTION&instFamily=BTC%2526instType%253DSWAP`); // 2.6
    await get(`${okx}?instType=OPTION&instType=SWAP&instFamily=BTC-USD&evil=1&INSTTYPE=x`); // 2.7, 2.8
    await get('/live/bybit/rest/v5/market/instruments-info?category=option&limit=1000000&cursor=abc%3D%3D'); // 2.10
    await get('/live/binance/rest/eapi/v1/exchangeInfo?symbol=BTCUSDT&x=1'); // 2.11
    expect(calls).toEqual([
      'https://www.okx.com/api/v5/public/instruments?instType=OPTION&instFamily=BTC%2526instType%253DSWAP',
      'https://www.okx.com/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD',
      'https://api.bybit.com/v5/market/instruments-info?category=option&limit=1000000&cursor=abc%3D%3D',
      'https://eapi.binance.com/eapi/v1/exchangeInfo',
    ]);
  });

  it('2.12: the relay keeps its own rate limit per venue', async () => {
    const { v } = venues();
    const burst = async (p: string, n: number) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) out.push((await v.rest(p, new URLSearchParams('instType=OPTION&instFamily=BTC-USD'))!).status);
      return out;
    };
    expect(await burst(okx, 12)).toEqual([...Array(5).fill(200), ...Array(7).fill(429)]);
    expect(await burst('/live/binance/rest/eapi/v1/exchangeInfo', 5)).toEqual([200, 200, 429, 429, 429]);
  });

  it('2.17: the simulator pass-through answers bad input with the venue\'s errors', async () => {
    await start();
    const body = async (p: string) => (await fetch(srv!.url + p)).json();
    expect(await body('/okx/rest/api/v5/public/instruments?instType=OPTION&instFamily=%00')).toMatchObject({ code: '51000' });
    expect(await body('/okx/rest/api/v5/public/nope')).toMatchObject({ code: '50030' });
    expect((await fetch(srv!.url + '/okx/rest/')).status).toBe(404);
    for (const q of ['limit=1e309', 'cursor=o99999999999999999999', 'limit=-5']) expect(await body(`/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&${q}`)).toMatchObject({ retCode: 0 });
    for (const q of ['baseCoin=__proto__', 'baseCoin=BTC&cursor=o-1']) expect(await body(`/bybit/rest/v5/market/instruments-info?category=option&${q}`)).toMatchObject({ retCode: 10001 });
    expect(await body('/binance/rest/x')).toMatchObject({ code: -1 });
    expect(srv!.hub.errors.total).toBe(0);
  });
});

describe('3: control endpoints', () => {
  const post = (p: string, headers: Record<string, string> = {}, body = '') => rawRequest(srv!.url, { method: 'POST', path: p, headers: { 'content-type': 'text/plain', ...headers }, body });

  it('3.1, 3.8: a foreign Origin cannot flip a switch (cross-site form POST included)', async () => {
    await start();
    const port = srv!.port;
    for (const o of ['https://evil.example', 'null', 'http://127.0.0.1.evil.test', `http://0.0.0.0:${port}`, `http://localhost.:${port}`, `http://evil.test:${port}`]) {
      expect([o, (await post('/__sim/pause', { Origin: o })).status]).toEqual([o, 403]);
      expect((await post('/__sim/fault', { Origin: o }, 'kind=silent&x={"kind":"silent"}')).status).toBe(403);
    }
    expect(srv!.clock.paused).toBe(false);
    expect(srv!.faults.list()).toEqual([]);
  });

  it('3.2-3.4, 3.9: methods, unknown endpoints, malformed bodies, a body too big, loopback origins', async () => {
    await start();
    expect((await rawRequest(srv!.url, { path: '/__sim/pause' })).status).toBe(405);
    expect((await post('/__gexdesk/info')).status).toBe(405);
    expect((await post('/__sim/unknown')).status).toBe(404);
    for (const b of ['[]', 'null', '{"kind":', '{"kind":"__proto__"}', '{"kind":"constructor"}', '{"kind":"silent","venue":"__proto__"}', '{"kind":"flood","factor":1e9}', '{"kind":"flood","factor":-1}', '{"kind":"expireAt","expiryMs":"abc"}']) {
      const r = await post('/__sim/fault', {}, b);
      expect([b, r.status]).toEqual([b, 400]);
      expect(JSON.parse(r.body).error.length).toBeGreaterThan(5);
    }
    expect((await post('/__sim/fault', {}, 'x'.repeat(5_000))).status).toBe(413);
    // documented: while bound to loopback, a page of another local app may use the switches
    expect((await post('/__sim/fault', { Origin: 'http://localhost:9999' }, '{"kind":"silent"}')).status).toBe(200);
    expect((await post('/__sim/clear', { Origin: 'http://[::1]:1' })).status).toBe(200);
    expect(srv!.faults.list()).toEqual([]);
  });
});

describe('4: websockets', () => {
  it('4.1-4.4: malformed JSON-RPC gets the JSON-RPC error, with the id when there is one', async () => {
    await start();
    const c = await deribit();
    const next = async (frame: string) => {
      const n = c.msgs.length;
      c.send(frame);
      await c.waitFor(() => c.msgs.length > n);
      return c.msgs[n];
    };
    for (const f of ['hello', '']) expect((await next(f)).error?.code).toBe(-32700);
    for (const f of ['[{"jsonrpc":"2.0","id":1,"method":"public/test"}]', 'null', '"x"', '123', '{}']) expect((await next(f)).error?.code).toBe(-32600);
    expect(await next('{"id":101,"method":5}')).toMatchObject({ id: 101, error: { code: -32600 } });
    expect(await next('{"jsonrpc":"2.0","id":102,"method":"public/test","params":[1,2]}')).toMatchObject({ id: 102, result: { version: '1.2.26' } });
    expect(await next('{"jsonrpc":"2.0","id":{"a":1},"method":"public/test"}')).toMatchObject({ id: { a: 1 } });
    const longId = 'i'.repeat(15_000);
    expect((await next(JSON.stringify({ jsonrpc: '2.0', id: longId, method: 'public/test' }))).id).toBe(longId);
    for (const m of ['__proto__', 'constructor', 'public/toString']) expect((await c.call(m)).error?.code).toBe(-32601);
    expect((await c.call('private/get_account_summary')).error?.code).toBe(13009);
    expect(typeof (await c.call('/api/v2/public/get_time')).result).toBe('number');
  });

  it('4.5, 4.6, 4.8: bad subscribe and heartbeat params get -32602; deep params are answered', async () => {
    await start();
    const c = await deribit();
    for (const channels of ['x', [1, 2], ['c'.repeat(201)], Array(2_001).fill('a')]) expect((await c.call('public/subscribe', { channels })).error?.code).toBe(-32602);
    expect((await c.call('public/subscribe', { channels: Array.from({ length: 600 }, (_, i) => `nope.${i}`) })).result).toEqual([]);
    c.send(`{"jsonrpc":"2.0","id":"deep","method":"public/test","params":{"deep":${'['.repeat(5_000)}${']'.repeat(5_000)}}}`);
    expect((await c.waitFor((m) => m.id === ('deep' as unknown as number))).result).toEqual({ version: '1.2.26' });
    for (const interval of [0, 'abc']) expect((await c.call('public/set_heartbeat', { interval })).error?.code).toBe(-32602);
  });

  it('4.7: invalid UTF-8 closes 1007; frames over the cap close 1009 on every venue', async () => {
    await start();
    const close = async (p: string, send: (ws: WebSocket) => void) => {
      const c = await venue(p);
      send(c.ws);
      return c.closed;
    };
    expect(await close('/deribit/ws/api/v2', (ws) => ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false }))).toBe(1007);
    expect(await close('/deribit/ws/api/v2', (ws) => ws.send('x'.repeat(16 * 1024 + 1)))).toBe(1009);
    expect(
      await close('/deribit/ws/api/v2', (ws) => {
        for (let i = 0; i < 20; i++) ws.send('y'.repeat(1_100), { fin: i === 19 });
      }),
    ).toBe(1009);
    for (const p of ['/okx/ws/v5/public', '/bybit/v5/public/option', '/binance/market/stream']) expect(await close(p, (ws) => ws.send('z'.repeat(70 * 1024 + 1)))).toBe(1009);
    const c = await deribit();
    c.send('x'.repeat(16 * 1024));
    expect((await c.waitFor((m) => m.error !== undefined)).error?.code).toBe(-32700);
  });

  it('4.15: 300 public/test at once: 100 answered, then 10028 and the session ends', async () => {
    await start();
    const c = await deribit();
    for (let i = 0; i < 300; i++) c.send({ jsonrpc: '2.0', id: i, method: 'public/test', params: {} });
    expect(await c.closed).toBe(1000);
    expect(c.msgs.filter((m) => m.result !== undefined).length).toBe(100);
    expect(c.msgs.at(-1)?.error?.code).toBe(10028);
  });

  it('4.20, 4.21: OKX 480 subscribes an hour; Binance 10 messages a second and 1,024 streams; Bybit fail topics and the args cap', async () => {
    await start();
    const okx = await venue('/okx/ws/v5/public');
    for (let i = 0; i < 500; i++) okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }] }));
    await okx.wait(() => okx.frames.filter((t) => t.includes('"code":"60014"')).length === 20);
    expect(okx.frames.filter((t) => t.startsWith('{"event":"subscribe"')).length).toBe(480);

    const b1 = await venue('/binance/market/stream');
    for (let i = 0; i < 11; i++) b1.ws.send(JSON.stringify({ method: 'LIST_SUBSCRIPTIONS', id: i }));
    expect(await b1.closed).toBe(1008);
    const b2 = await venue('/binance/market/stream');
    const streams = Array.from({ length: 1_024 }, (_, i) => `btcusdt@optionOpenInterest@${String(100_000 + i)}`);
    b2.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: streams, id: 1 }));
    await b2.wait((t) => t === '{"result":null,"id":1}');
    b2.ws.send(JSON.stringify({ method: 'SUBSCRIBE', params: ['ethusdt@optionMarkPrice'], id: 2 }));
    expect(JSON.parse(await b2.wait((t) => t.includes('"id":2')))).toMatchObject({ error: { code: 4 } });

    const by = await venue('/bybit/v5/public/option');
    by.ws.send(JSON.stringify({ op: 'subscribe', args: ['tickers.NOPE-1', 'x'] }));
    expect(JSON.parse(await by.wait((t) => t.includes('COMMAND_RESP'))).data).toEqual({ successTopics: [], failTopics: ['tickers.NOPE-1', 'x'] });
    const names = (await (await fetch(`${srv!.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=BTC&limit=1000`)).json()).result.list.map((x: { symbol: string }) => `tickers.${x.symbol}`);
    const eth = (await (await fetch(`${srv!.url}/bybit/rest/v5/market/instruments-info?category=option&baseCoin=ETH&limit=1000`)).json()).result.list.map((x: { symbol: string }) => `tickers.${x.symbol}`);
    const all = [...names, ...eth];
    expect(all.join(',').length).toBeGreaterThan(21_000);
    by.ws.send(JSON.stringify({ op: 'subscribe', args: all, req_id: 'big' }));
    expect(JSON.parse(await by.wait((t) => t.includes('"req_id":"big"')))).toMatchObject({ success: false });
  });

  it('4.26, 4.27: 32 sockets an address (released on close), a cap in all', async () => {
    await start({ maxConnections: 20, maxConnectionsPerIp: 8 });
    const openFrom = async (ip: string, n: number) => {
      const out: string[] = [];
      for (let i = 0; i < n; i++) {
        out.push(
          await new Promise<string>((resolve) => {
            const ws = new WebSocket(wsUrl(), { localAddress: ip, perMessageDeflate: false });
            ws.once('open', () => {
              open.push({ close: () => ws.terminate() });
              resolve('open');
            });
            ws.once('unexpected-response', (_q, r) => resolve(String(r.statusCode)));
            ws.once('error', () => resolve('error'));
          }),
        );
      }
      return out;
    };
    expect(await openFrom('127.0.0.2', 10)).toEqual([...Array(8).fill('open'), '429', '429']);
    expect(await openFrom('127.0.0.3', 8)).toEqual(Array(8).fill('open'));
    expect(await openFrom('127.0.0.4', 8)).toEqual([...Array(4).fill('open'), ...Array(4).fill('503')]);
    for (const c of open.splice(0)) c.close();
    await waitFor('every socket released', async () => (await (await fetch(srv!.url + '/__gexdesk/info')).json()).connections === 0, 5_000);
    expect(await openFrom('127.0.0.2', 8)).toEqual(Array(8).fill('open'));
    expect(DEFAULT_MAX_CONNECTIONS_PER_IP).toBe(32);
  });

  it('4.28: raw upgrades: no key 400; no compression negotiated', async () => {
    await start();
    const up = (extra: string) => rawSocket(srv!.url, `GET /deribit/ws/api/v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n${extra}\r\n`, 1_000, headEnded);
    expect(await up('Sec-WebSocket-Version: 13\r\n')).toMatch(/^HTTP\/1\.1 400/);
    const deflate = await up('Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate\r\n');
    expect(deflate).toMatch(/^HTTP\/1\.1 101/);
    expect(deflate.toLowerCase()).not.toContain('sec-websocket-extensions');
    const protocols = Array.from({ length: 200 }, (_, i) => `p${i}`).join(', ');
    expect(await up(`Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocols}\r\n`)).toMatch(/^HTTP\/1\.1 101/);
  });
});

describe('4.30: the READMEs give the figures the code has', () => {
  const n = (x: number) => x.toLocaleString('en-US');
  it('connections, budgets, caps and buffers', () => {
    const server = readFileSync(new URL('./README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const top = readFileSync(new URL('../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    for (const text of [server, top]) expect(text).toContain(`${DEFAULT_MAX_CONNECTIONS_PER_IP} per`);
    expect(server).not.toMatch(/\b8 per IP/);
    expect(server).toContain(`at most ${n(DERIBIT_SESSION.maxChannels)} channels a session`);
    expect(server).toContain(`${n(MAX_HEARTBEAT_S)} s`);
    expect(server).toContain(`Deribit ${n(DERIBIT_SESSION.maxChannels)}, OKX ${n(OKX_SESSION.maxChannels)}, Bybit ${n(BYBIT_SESSION.maxChannels)}, Binance ${n(BINANCE_SESSION.maxChannels)}`);
    expect(server).toContain(`OKX and Bybit ${n(OKX_SESSION.requestBurst)} at once and ${OKX_SESSION.requestsPerSec} a second; Binance ${BINANCE_SESSION.requestsPerSec} a second`);
    expect(BYBIT_SESSION.requestBurst).toBe(OKX_SESSION.requestBurst);
    expect(server).toContain(`(${DERIBIT_SESSION.requestBurst} at once, ${DERIBIT_SESSION.requestsPerSec} a second)`);
    expect(server).toContain(`${DEFAULT_SEND_LIMITS.softBufferBytes / 1024} KiB queued`);
    expect(server).toContain(`past ${DEFAULT_SEND_LIMITS.hardBufferBytes / 1024 / 1024} MiB, or ${DEFAULT_SEND_LIMITS.hardGraceMs / 1000} s stuck`);
    expect(top).toContain(`past ${DEFAULT_SEND_LIMITS.hardBufferBytes / 1024 / 1024} MiB of replies`);
  });
});
