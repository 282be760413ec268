import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server.ts';
import { TestClient, sleep } from '../testing/test-client.ts';
import { Conn } from '../testing/venue-test-conn.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
let srv: RunningServer;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
});
const wsUrl = () => srv.url.replace('http', 'ws') + '/deribit/ws/api/v2';
async function client(): Promise<TestClient> {
  const c = await TestClient.connect(wsUrl());
  clients.push(c);
  return c;
}
const fault = async (body: unknown) => (await fetch(srv.url + '/__sim/fault', { method: 'POST', body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>;
const clear = () => fetch(srv.url + '/__sim/clear', { method: 'POST' });
const CH = ['ticker.BTC-PERPETUAL.100ms', 'deribit_price_index.btc_usd'];

describe('fault switches', () => {
  it('drop terminates sockets; refuse answers 503; flap closes after ~200 ms', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    expect((await fault({ kind: 'drop' })).dropped).toBe(1);
    expect(await c.closed).toBe(1006);
    await fault({ kind: 'refuse' });
    await expect(TestClient.connect(wsUrl())).rejects.toThrow('HTTP 503');
    await clear();
    await fault({ kind: 'flap' });
    const f = await client();
    const t0 = Date.now();
    await f.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect((await fault({ kind: 'nope' })).ok).toBe(false);
  });

  it('silent: no data, no heartbeat, requests ignored; heartbeatOnly: heartbeats but no data', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    await c.call('public/set_heartbeat', { interval: 1 });
    await c.call('public/subscribe', { channels: CH });
    await fault({ kind: 'silent' });
    await sleep(150);
    const n = c.msgs.length;
    c.send({ jsonrpc: '2.0', id: 99, method: 'public/test', params: {} });
    await sleep(1300);
    expect(c.msgs.length).toBe(n);
    expect(c.closeCode).toBeUndefined();
    await clear();
    await fault({ kind: 'heartbeatOnly' });
    await sleep(150);
    const m = c.msgs.length;
    await sleep(1300);
    const later = c.msgs.slice(m);
    expect(later.some((x) => x.method === 'heartbeat')).toBe(true);
    expect(later.some((x) => x.method === 'subscription')).toBe(false);
    expect((await c.call('public/test')).result).toEqual({ version: '1.2.26' });
  });

  it('error10028 answers the next subscribe with 10028 and closes', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    await fault({ kind: 'error10028' });
    const r = await c.call('public/subscribe', { channels: CH });
    expect(r.error).toEqual({ code: 10028, message: 'too_many_requests' });
    await c.closed;
    const d = await client();
    expect((await d.call('public/subscribe', { channels: CH })).result).toEqual(CH); // one-shot
  });

  it('malformed, badNumbers, dup, reorder, flood, gap and oversize are observable on the wire', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    const opt = ((await c.call('public/get_instruments', { currency: 'BTC', kind: 'option' })).result as { instrument_name: string }[])[100].instrument_name;
    await c.call('public/subscribe', { channels: [...CH, `ticker.${opt}.100ms`, 'book.BTC-PERPETUAL.100ms'] });
    await sleep(300);

    await fault({ kind: 'malformed' });
    let mark = c.raw.length;
    await sleep(1200);
    const bad = c.raw.slice(mark).filter((r) => {
      if (typeof r !== 'string') return true;
      try {
        const o = JSON.parse(r);
        return !o || typeof o !== 'object' || Array.isArray(o) || (o.method === 'subscription' && typeof o.params?.data !== 'object') || o.method === 'no_such_method' || Object.keys(o).length === 0;
      } catch {
        return true;
      }
    });
    expect(bad.length).toBeGreaterThanOrEqual(2);
    await clear();

    await fault({ kind: 'badNumbers' });
    mark = c.raw.length;
    await sleep(900);
    const txt = c.raw.slice(mark).filter((r): r is string => typeof r === 'string');
    expect(txt.some((t) => t.includes('"open_interest":1e400') || t.includes('"mark_iv":1000000000') || t.includes('"open_interest":-1'))).toBe(true);
    const sum = await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' });
    const rows = sum.result as Record<string, unknown>[];
    expect(rows[0].open_interest).toBe(-5);
    expect(rows[1].mark_iv).toBe(1e9);
    expect(rows.some((r) => r.open_interest === Infinity)).toBe(true); // 1e400 on the wire
    await clear();

    const countTicks = async (ms: number) => {
      const from = c.msgs.length;
      await sleep(ms);
      return c.msgs.slice(from).filter((m) => m.params?.channel === 'ticker.BTC-PERPETUAL.100ms');
    };
    const normal = (await countTicks(1000)).length;
    await fault({ kind: 'flood', factor: 10 });
    const flooded = (await countTicks(1000)).length;
    expect(flooded).toBeGreaterThan(normal * 3);
    await clear();

    await fault({ kind: 'dup' });
    const dups = await countTicks(2000);
    const ts = dups.map((m) => (m.params!.data as { timestamp: number }).timestamp);
    expect(new Set(ts).size).toBeLessThan(ts.length);
    await clear();

    await fault({ kind: 'reorder' });
    const from = c.msgs.length;
    await sleep(2500);
    await clear();
    // per channel, some frame arrives after a newer one
    const seq = c.msgs.slice(from).filter((m) => m.method === 'subscription' && m.params?.channel !== 'book.BTC-PERPETUAL.100ms');
    const lastTs = new Map<string, number>();
    let out = 0;
    for (const m of seq) {
      const ch = m.params!.channel!;
      const t = (m.params!.data as { timestamp: number }).timestamp;
      if (t < (lastTs.get(ch) ?? 0)) out++;
      lastTs.set(ch, Math.max(t, lastTs.get(ch) ?? 0));
    }
    expect(out).toBeGreaterThan(0);

    const bookFrom = c.msgs.length;
    await fault({ kind: 'gap' });
    await sleep(500);
    const books = c.msgs.slice(bookFrom - 1).filter((m) => m.params?.channel === 'book.BTC-PERPETUAL.100ms').map((m) => m.params!.data as Record<string, number>);
    expect(books.some((b, i) => i > 0 && b.prev_change_id !== books[i - 1].change_id)).toBe(true);

    const r = await fault({ kind: 'oversize' });
    expect(r.sent).toBe(1);
    await c.waitFor((m) => typeof (m.params?.data as Record<string, unknown> | undefined)?.padding === 'string');
    expect(c.raw.some((x) => x.length >= 10 * 1024 * 1024)).toBe(true);
    expect(c.closeCode).toBeUndefined();
  });

  it('a venue param scopes every switch, Deribit included', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    await c.call('public/subscribe', { channels: CH });
    const okx = await Conn.open(srv.url.replace('http', 'ws') + '/okx/ws/v5/public');
    okx.ws.send(JSON.stringify({ op: 'subscribe', args: [{ channel: 'index-tickers', instId: 'BTC-USD' }] }));
    await okx.wait((t) => t.includes('"idxPx"'));
    const bad = async (body: unknown) => (await fetch(srv.url + '/__sim/fault', { method: 'POST', body: JSON.stringify(body) })).status;
    expect(await bad({ kind: 'silent', venue: 'kraken' })).toBe(400);
    expect(await bad({ kind: 'error10028', venue: 'okx' })).toBe(400);

    // another venue's silence: Deribit keeps talking; Deribit's own: it stops, OKX keeps talking
    await fault({ kind: 'silent', venue: 'okx' });
    await sleep(150);
    let n = c.msgs.length;
    await sleep(400);
    expect(c.msgs.length).toBeGreaterThan(n);
    await clear();
    await fault({ kind: 'silent', venue: 'deribit' });
    await sleep(150);
    n = c.msgs.length;
    const m = okx.frames.length;
    await sleep(500);
    expect(c.msgs.length).toBe(n);
    expect(okx.frames.length).toBeGreaterThan(m);
    await clear();

    // refuse and drop for one venue leave the other's sockets alone
    await fault({ kind: 'refuse', venue: 'deribit' });
    await expect(TestClient.connect(wsUrl())).rejects.toThrow('HTTP 503');
    const okx2 = await Conn.open(srv.url.replace('http', 'ws') + '/okx/ws/v5/public');
    await clear();
    expect((await fault({ kind: 'drop', venue: 'okx' })).dropped).toBe(2);
    expect(await okx.closed).toBe(1006);
    expect(await okx2.closed).toBe(1006);
    expect(c.closeCode).toBeUndefined();
    expect((await fault({ kind: 'drop', venue: 'deribit' })).dropped).toBe(1);
    expect(await c.closed).toBe(1006);
  });

  it('expireAt jumps the venue clock past an expiry: it is delisted and announced', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const c = await client();
    await c.call('public/subscribe', { channels: ['instrument.state.option.any'] });
    const first = srv.sim!.listedExpiries()[0];
    const r = await fault({ kind: 'expireAt', expiryMs: first });
    expect(r.simTimeMs).toBeGreaterThanOrEqual(first);
    await c.waitFor((m) => (m.params?.data as Record<string, unknown> | undefined)?.state === 'terminated');
    const instr = (await c.call('public/get_instruments', { currency: 'ETH', kind: 'option' })).result as { expiration_timestamp: number }[];
    expect(instr.every((i) => i.expiration_timestamp > first)).toBe(true);
  });

  it('expireAt with beforeMs stops that long before the expiry, still listed; a bad beforeMs is refused', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    const first = srv.sim!.listedExpiries()[0];
    const r = await fault({ kind: 'expireAt', beforeMs: 30 * 60_000 });
    expect(r.simTimeMs).toBeGreaterThanOrEqual(first - 30 * 60_000);
    expect(r.simTimeMs).toBeLessThan(first - 29 * 60_000);
    expect(srv.sim!.listedExpiries()[0]).toBe(first);
    const bad = await fetch(srv.url + '/__sim/fault', { method: 'POST', body: JSON.stringify({ kind: 'expireAt', beforeMs: -1 }) });
    expect(bad.status).toBe(400);
  });

  it('pause freezes the simulated clock and market; resume continues', async () => {
    srv = await startServer({ source: 'sim', port: 0, startMs: START });
    await fetch(srv.url + '/__sim/pause', { method: 'POST' });
    const a = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { simTimeMs: number; paused: boolean };
    await sleep(400);
    const b = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { simTimeMs: number; source: string; seed: number; venues: string[] };
    expect(a.paused).toBe(true);
    expect(b.simTimeMs).toBe(a.simTimeMs);
    expect(b).toMatchObject({ source: 'sim', seed: 42, venues: ['deribit', 'okx', 'bybit', 'binance'] });
    await fetch(srv.url + '/__sim/resume', { method: 'POST' });
    await sleep(300);
    const c2 = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { simTimeMs: number };
    expect(c2.simTimeMs).toBeGreaterThan(a.simTimeMs + 200);
  });
});
