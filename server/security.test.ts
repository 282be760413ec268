import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MAX_CONNECTIONS_PER_IP, startServer, type RunningServer } from './server.ts';
import { TestClient, sleep } from './testing/test-client.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
let srv: RunningServer;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
});
const wsUrl = () => srv.url.replace('http', 'ws') + '/deribit/ws/api/v2';

describe('server security', () => {
  it('checks Origin: foreign origin 403, same host and no Origin allowed', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START, host: '127.0.0.1' });
    await expect(TestClient.connect(wsUrl(), { Origin: 'https://evil.example' })).rejects.toThrow('HTTP 403');
    const same = await TestClient.connect(wsUrl(), { Origin: srv.url });
    const none = await TestClient.connect(wsUrl());
    clients.push(same, none);
    const r = await fetch(srv.url + '/__sim/pause', { method: 'POST', headers: { Origin: 'https://evil.example' } });
    expect(r.status).toBe(403);
    await expect(TestClient.connect(srv.url.replace('http', 'ws') + '/other')).rejects.toThrow('HTTP 404');
  });

  it('caps inbound frames (1009) and connections per IP (429)', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START, maxConnectionsPerIp: 3 });
    const c = await TestClient.connect(wsUrl());
    c.send('x'.repeat(17 * 1024));
    expect(await c.closed).toBe(1009);
    await sleep(50);
    for (let i = 0; i < 3; i++) clients.push(await TestClient.connect(wsUrl()));
    await expect(TestClient.connect(wsUrl())).rejects.toThrow('HTTP 429');
  });

  it('by default admits a desk of all-venue tabs from one address (6 sockets a tab), and refuses past the cap', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    for (let i = 0; i < DEFAULT_MAX_CONNECTIONS_PER_IP; i++) clients.push(await TestClient.connect(wsUrl()));
    expect(DEFAULT_MAX_CONNECTIONS_PER_IP).toBeGreaterThanOrEqual(3 * 6);
    await expect(TestClient.connect(wsUrl())).rejects.toThrow('HTTP 429');
  });

  it('a slow client does not make the server queue without bound; stuck above the hard cap it is closed with 1008', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START, limits: { softBufferBytes: 64 * 1024, hardBufferBytes: 1024 * 1024, hardGraceMs: 500 } });
    const slow = await TestClient.connect(wsUrl());
    const fast = await TestClient.connect(wsUrl());
    clients.push(slow, fast);
    const chans = ['markprice.options.btc_usd', 'markprice.options.eth_usd', 'book.BTC-PERPETUAL.100ms', 'book.ETH-PERPETUAL.100ms', 'ticker.BTC-PERPETUAL.100ms'];
    await slow.call('public/subscribe', { channels: chans });
    await fast.call('public/subscribe', { channels: chans });
    await fetch(srv.url + '/__sim/fault', { method: 'POST', body: JSON.stringify({ kind: 'flood', factor: 20 }) });
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const rss0 = process.memoryUsage().rss;
    await sleep(2500);
    const st = srv.stats().sessions;
    const s = st.find((x) => x.id === 1)!;
    // a channel skipped for a tick counts once (it is skipped before its frames are built, flood copies and all)
    expect(s.skippedFrames).toBeGreaterThan(20);
    // bounded by the soft cap plus the frames of one tick (flooded markprice ~ 20 x 100 kB)
    expect(s.maxBuffered).toBeLessThan(8 * 1024 * 1024);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(150 * 1024 * 1024);
    const f = st.find((x) => x.id === 2)!;
    expect(f.sentFrames).toBeGreaterThan(s.sentFrames);
    // essential replies pile up above the hard cap: the server gives up on the client with 1008
    for (let i = 0; i < 20; i++) slow.send({ jsonrpc: '2.0', id: 1000 + i, method: 'public/get_book_summary_by_currency', params: { currency: 'BTC', kind: 'option' } });
    await sleep(1500);
    slow.send({ jsonrpc: '2.0', id: 5000, method: 'public/test', params: {} });
    await sleep(300);
    expect(srv.stats().closedSlow + srv.stats().sessions.filter((x) => x.closedSlow).length).toBeGreaterThanOrEqual(1);
  });

  it('serves static files with CSP, content types, SPA fallback and no traversal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gexdesk-static-'));
    writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>x</title>');
    mkdirSync(path.join(dir, 'assets'));
    writeFileSync(path.join(dir, 'assets', 'app.js'), 'console.log(1)');
    srv = await startServer({ source: 'sim', port: 0, startMs: START, serveDir: dir });
    const idx = await fetch(srv.url + '/');
    expect(idx.headers.get('content-type')).toContain('text/html');
    const csp = idx.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain(`connect-src 'self' ws://127.0.0.1:${srv.port} wss://www.deribit.com`);
    expect(csp).toContain("frame-ancestors 'none'");
    expect((await fetch(srv.url + '/assets/app.js')).headers.get('content-type')).toContain('text/javascript');
    const spa = await fetch(srv.url + '/kiosk/btc');
    expect(spa.status).toBe(200);
    expect(await spa.text()).toContain('<title>x</title>');
    expect((await fetch(srv.url + '/assets/missing.js')).status).toBe(404);
    // confined to the root: the traversal resolves inside it and falls back to the app
    const trav = await (await fetch(srv.url + '/..%2f..%2fetc%2fpasswd')).text();
    expect(trav).not.toContain('root:');
    expect(trav).toContain('<title>x</title>');
    const info = await fetch(srv.url + '/__gexdesk/info');
    expect(await info.json()).toMatchObject({ source: 'sim', venues: ['deribit', 'okx', 'bybit', 'binance'] });
  });

  it('binds to 127.0.0.1 by default', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    expect(srv.host).toBe('127.0.0.1');
    void WebSocket;
  });
});
