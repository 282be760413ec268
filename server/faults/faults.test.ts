import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server.ts';
import { TestClient, type Msg } from '../testing/test-client.ts';
import { Conn } from '../testing/venue-test-conn.ts';
import { countOver, staysFor, waitFor } from '../../test/wait.ts';

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
const PERP_TICKER = 'ticker.BTC-PERPETUAL.100ms';
const PERP_BOOK = 'book.BTC-PERPETUAL.100ms';
const CH = [PERP_TICKER, 'deribit_price_index.btc_usd'];
const info = async () => (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { simTimeMs: number; paused: boolean; source: string; seed: number; venues: string[] };
/** A frame the `malformed` fault injects: not JSON, not an object, data that is not an object, an unknown method or `{}`. */
function malformed(r: string | Buffer): boolean {
  if (typeof r !== 'string') return true;
  try {
    const o = JSON.parse(r);
    return !o || typeof o !== 'object' || Array.isArray(o) || (o.method === 'subscription' && typeof o.params?.data !== 'object') || o.method === 'no_such_method' || Object.keys(o).length === 0;
  } catch {
    return true;
  }
}
/** How many subscription frames came after a newer one on their channel (the `reorder` fault). */
function outOfOrder(frames: Msg[]): number {
  const lastTs = new Map<string, number>();
  let out = 0;
  for (const m of frames) {
    const ch = m.params!.channel!;
    const t = (m.params!.data as { timestamp: number }).timestamp;
    if (t < (lastTs.get(ch) ?? 0)) out++;
    lastTs.set(ch, Math.max(t, lastTs.get(ch) ?? 0));
  }
  return out;
}

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
    await c.flushed(); // frames sent before the switch are in
    const n = c.msgs.length;
    c.send({ jsonrpc: '2.0', id: 99, method: 'public/test', params: {} });
    // 1.3 s: past the 1 s heartbeat and a dozen data ticks, none of which (nor the answer) may come
    await staysFor('no frame at all while silent, the socket open', () => c.msgs.length === n && c.closeCode === undefined, 1_300);
    await clear();
    await fault({ kind: 'heartbeatOnly' });
    await c.flushed();
    const m = c.msgs.length;
    await Promise.all([
      waitFor('a heartbeat under heartbeatOnly', () => c.msgs.slice(m).some((x) => x.method === 'heartbeat'), 5_000),
      // 1 s: ten data ticks
      staysFor('no data frame under heartbeatOnly', () => !c.msgs.slice(m).some((x) => x.method === 'subscription'), 1_000),
    ]);
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
    const channels = [...CH, `ticker.${opt}.100ms`, PERP_BOOK];
    await c.call('public/subscribe', { channels });
    await waitFor('a frame on every channel', () => channels.every((ch) => c.notes(ch).length > 0), 5_000);

    await fault({ kind: 'malformed' });
    let mark = c.raw.length;
    await waitFor('two malformed frames', () => c.raw.slice(mark).filter(malformed).length >= 2, 5_000);
    await clear();

    await fault({ kind: 'badNumbers' });
    mark = c.raw.length;
    await waitFor('a ticker with a bad number', () =>
      c.raw.slice(mark).some((t) => typeof t === 'string' && (t.includes('"open_interest":1e400') || t.includes('"mark_iv":1000000000') || t.includes('"open_interest":-1'))), 5_000);
    const sum = await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' });
    const rows = sum.result as Record<string, unknown>[];
    expect(rows[0].open_interest).toBe(-5);
    expect(rows[1].mark_iv).toBe(1e9);
    expect(rows.some((r) => r.open_interest === Infinity)).toBe(true); // 1e400 on the wire
    await clear();

    // the perp ticker's rate, each measured over a 1 s window: flooded (x10) is well over 3 times normal
    const normal = await countOver(1_000, () => c.notes(PERP_TICKER).length);
    await fault({ kind: 'flood', factor: 10 });
    const flooded = await countOver(1_000, () => c.notes(PERP_TICKER).length);
    expect(flooded).toBeGreaterThan(normal * 3);
    await clear();

    // every 10th data frame twice: which channel's frame that is depends on where the count stands
    await fault({ kind: 'dup' });
    let from = c.msgs.length;
    await waitFor('a data frame sent twice', () => {
      const frames = c.msgs.slice(from).filter((m) => m.method === 'subscription').map((m) => `${m.params!.channel} ${(m.params!.data as { timestamp: number }).timestamp}`);
      return new Set(frames).size < frames.length;
    }, 5_000);
    await clear();

    // per channel, some frame arrives after a newer one (books name their predecessor: exempt)
    await fault({ kind: 'reorder' });
    from = c.msgs.length;
    await waitFor('a frame after a newer one of its channel', () => outOfOrder(c.msgs.slice(from).filter((m) => m.method === 'subscription' && m.params?.channel !== PERP_BOOK)) > 0, 5_000);
    await clear();

    // the next book frame after the switch does not follow on from the one before it
    const lastBook = c.notes(PERP_BOOK).length - 1;
    await fault({ kind: 'gap' });
    await waitFor('a book frame whose prev_change_id is not the last change_id', () => {
      const books = c.notes(PERP_BOOK).slice(lastBook).map((m) => m.params!.data as Record<string, number>);
      return books.some((b, i) => i > 0 && b.prev_change_id !== books[i - 1].change_id);
    }, 5_000);

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
    // (holds of 500 ms: five data ticks)
    await fault({ kind: 'silent', venue: 'okx' });
    await Promise.all([c.flushed(), okx.flushed()]);
    let n = c.msgs.length;
    let m = okx.frames.length;
    await Promise.all([
      waitFor('Deribit frames while OKX is silent', () => c.msgs.length > n, 5_000),
      staysFor('no OKX frame while OKX is silent', () => okx.frames.length === m, 500),
    ]);
    await clear();
    await fault({ kind: 'silent', venue: 'deribit' });
    await Promise.all([c.flushed(), okx.flushed()]);
    n = c.msgs.length;
    m = okx.frames.length;
    await Promise.all([
      waitFor('OKX frames while Deribit is silent', () => okx.frames.length > m, 5_000),
      staysFor('no Deribit frame while Deribit is silent', () => c.msgs.length === n, 500),
    ]);
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
    const a = await info();
    expect(a.paused).toBe(true);
    expect(a).toMatchObject({ source: 'sim', seed: 42, venues: ['deribit', 'okx', 'bybit', 'binance'] });
    // 400 ms: four market steps that a running clock would have taken
    await staysFor('the simulated clock stands still while paused', async () => (await info()).simTimeMs === a.simTimeMs, 400);
    await fetch(srv.url + '/__sim/resume', { method: 'POST' });
    await waitFor('the simulated clock 200 ms on after resume', async () => (await info()).simTimeMs > a.simTimeMs + 200, 5_000);
  });
});
