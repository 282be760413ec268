import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.ts';
import { TestClient, sleep } from '../../testing/test-client.ts';

const START = Date.parse('2025-03-03T12:00:00Z');
let srv: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
  srv = undefined;
});
async function open(opts: Partial<Parameters<typeof startServer>[0]> = {}): Promise<TestClient> {
  srv = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START, ...opts });
  const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
  clients.push(c);
  return c;
}

describe('Deribit protocol on the simulator', () => {
  it('answers with Deribit envelopes, errors and parse errors', async () => {
    const c = await open();
    const hello = await c.call('public/hello', { client_name: 't', client_version: '1' });
    expect(hello.result).toEqual({ version: '1.2.26' });
    expect(hello.jsonrpc).toBe('2.0');
    expect(hello.testnet).toBe(false);
    expect(typeof hello.usIn).toBe('number');
    expect(hello.usDiff).toBe((hello.usOut as number) - (hello.usIn as number));
    expect(Math.abs((hello.usIn as number) / 1000 - START)).toBeLessThan(60_000); // venue time = sim time
    const t = await c.call('public/get_time');
    expect(Math.abs((t.result as number) - START)).toBeLessThan(60_000);
    const bad = await c.call('public/nope');
    expect(bad.error).toEqual({ code: -32601, message: 'Method not found' });
    c.send('{not json');
    const pe = await c.waitFor((m) => m.error?.code === -32700);
    expect(pe.error?.message).toBe('Parse error');
    const hb = await c.call('public/set_heartbeat', { interval: 0.2 });
    expect(hb.error?.code).toBe(-32602);
  });

  it('subscribe returns only the channels processed; unsubscribe likewise', async () => {
    const c = await open();
    const r = await c.call('public/subscribe', { channels: ['deribit_price_index.btc_usd', 'ticker.BTC-1JAN20-1000-C.100ms', 'bogus'] });
    expect(r.result).toEqual(['deribit_price_index.btc_usd']);
    const n = await c.waitFor((m) => m.params?.channel === 'deribit_price_index.btc_usd');
    expect(n.params?.data).toMatchObject({ index_name: 'btc_usd' });
    const u = await c.call('public/unsubscribe', { channels: ['deribit_price_index.btc_usd', 'markprice.options.btc_usd'] });
    expect(u.result).toEqual(['deribit_price_index.btc_usd']);
  });

  it('summary, markprice, tickers and index agree at the same instant', async () => {
    const c = await open();
    await fetch(srv!.url + '/__sim/pause', { method: 'POST' });
    const instr = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as Record<string, unknown>[];
    // read after a request: every request first steps the market to the paused clock, and a tick due
    // before the pause may not have run yet (under load the market stood a step behind the clock)
    const simT = srv!.sim!.timeMs;
    expect(instr.length).toBeGreaterThan(500);
    expect(instr[0]).toMatchObject({ kind: 'option', base_currency: 'BTC', contract_size: 1, instrument_type: 'reversed', price_index: 'btc_usd' });
    expect(new Date(instr[0].expiration_timestamp as number).getUTCHours()).toBe(8);
    const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result as Record<string, number | string>[];
    expect(sum.length).toBe(instr.length);
    const idx = (await c.call('public/get_index_price', { index_name: 'btc_usd' })).result as { index_price: number };
    for (const r of sum) {
      expect(r.creation_timestamp).toBe(simT);
      expect(r.estimated_delivery_price).toBe(idx.index_price);
    }
    // per-expiry ticker (nearest call) carries the same forward as the summary rows of that expiry
    const row = sum.find((r) => String(r.instrument_name).endsWith('-C'))!;
    const tick = (await c.call('public/ticker', { instrument_name: row.instrument_name })).result as Record<string, unknown>;
    expect(tick.underlying_price).toBe(row.underlying_price);
    expect(tick.mark_iv).toBe(row.mark_iv);
    expect(tick.timestamp).toBe(simT);
    expect(tick.greeks).toHaveProperty('gamma');
    const sub = await c.call('public/subscribe', { channels: ['markprice.options.btc_usd', `ticker.${row.instrument_name}.100ms`, 'ticker.BTC-PERPETUAL.100ms'] });
    expect((sub.result as string[]).length).toBe(3);
    const mp = await c.waitFor((m) => m.params?.channel === 'markprice.options.btc_usd', 3000);
    const list = mp.params!.data as { instrument_name: string; iv: number; timestamp: number; mark_price: number }[];
    expect(list.length).toBe(sum.length);
    const byName = new Map(sum.map((r) => [r.instrument_name, r]));
    for (const e of list) {
      expect(e.timestamp).toBe(simT);
      expect(e.iv).toBe((byName.get(e.instrument_name)!.mark_iv as number) / 100);
      expect(e.mark_price).toBe(byName.get(e.instrument_name)!.mark_price);
    }
    const tn = await c.waitFor((m) => m.params?.channel === `ticker.${row.instrument_name}.100ms`);
    expect((tn.params!.data as Record<string, unknown>).underlying_price).toBe(row.underlying_price);
    const perp = await c.waitFor((m) => m.params?.channel === 'ticker.BTC-PERPETUAL.100ms');
    expect(perp.params!.data).toMatchObject({ instrument_name: 'BTC-PERPETUAL', index_price: idx.index_price, timestamp: simT });
    for (const k of ['mark_price', 'current_funding', 'funding_8h', 'open_interest', 'best_bid_price', 'best_ask_price']) expect(typeof (perp.params!.data as Record<string, unknown>)[k]).toBe('number');
  });

  it('sends the book as a snapshot, then changes chained by change_id/prev_change_id, at most every 100 ms', async () => {
    const c = await open({ speed: 1 });
    await c.call('public/subscribe', { channels: ['book.BTC-PERPETUAL.100ms'] });
    await sleep(1200);
    const notes = c.notes('book.BTC-PERPETUAL.100ms').map((m) => m.params!.data as Record<string, unknown>);
    expect(notes[0].type).toBe('snapshot');
    expect((notes[0].bids as unknown[]).length).toBeGreaterThan(50);
    expect(notes.length).toBeGreaterThan(5);
    expect(notes.length).toBeLessThanOrEqual(14);
    for (let i = 1; i < notes.length; i++) {
      expect(notes[i].type).toBe('change');
      expect(notes[i].prev_change_id).toBe(notes[i - 1].change_id);
    }
    // applying the changes reproduces the simulator's book
    const bids = new Map<number, number>();
    for (const n of notes)
      for (const [a, p, q] of n.bids as [string, number, number][]) {
        if (a === 'delete') bids.delete(p);
        else bids.set(p, q);
      }
    await fetch(srv!.url + '/__sim/pause', { method: 'POST' });
    const last = notes[notes.length - 1];
    expect(last.change_id).toBeLessThanOrEqual(srv!.sim!.bookChangeId('BTC'));
    const best = Math.max(...bids.keys());
    expect(best).toBeGreaterThan(0);
    const askBest = Math.min(...notes.flatMap((n) => (n.asks as [string, number, number][]).filter((x) => x[0] !== 'delete').map((x) => x[1])));
    expect(askBest).toBeGreaterThan(best - 1000);
  });

  it('heartbeat: test_request each interval; no public/test in time closes the connection', async () => {
    const c = await open();
    await c.call('public/set_heartbeat', { interval: 1 });
    await c.waitFor((m) => m.method === 'heartbeat' && m.params?.type === 'test_request', 2500);
    await sleep(1200);
    expect(c.closeCode).toBeUndefined(); // answered automatically
    c.answerTestRequests = false;
    const code = await Promise.race([c.closed, sleep(4000).then(() => -1)]);
    expect(code).toBe(1000);
  });

  it('heartbeat: a process stalled past the interval does not close a session whose answer came in time', async () => {
    // tests run servers and clients on one event loop: after a stall, the overdue tick would run before
    // the answer waiting in the socket is read, and a session that answered would be closed
    const c = await open();
    await c.call('public/set_heartbeat', { interval: 1 });
    await c.waitFor((m) => m.method === 'heartbeat' && m.params?.type === 'test_request', 2500);
    const end = Date.now() + 1_300; // the answer has gone out; nothing is read for 1.3 s
    while (Date.now() < end) {
      // a stalled process
    }
    await sleep(500);
    expect(c.closeCode).toBeUndefined();
    await c.waitFor((m) => m.method === 'heartbeat' && m.params?.type === 'test_request' && c.msgs.filter((x) => x.params?.type === 'test_request').length >= 2, 2500);
  });

  it('announces the 08:00 roll on instrument.state.option.BTC and delists the expired expiry; the lowercase name is refused, as the venue refuses it', async () => {
    srv = await startServer({ source: 'sim', seed: 3, port: 0, startMs: Date.parse('2025-03-03T07:59:59.000Z') });
    const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
    clients.push(c);
    // a rejected channel is left out of the result (the call itself succeeds), as on Deribit
    const sub = await c.call('public/subscribe', { channels: ['instrument.state.option.btc', 'instrument.state.option.BTC'] });
    expect(sub.result).toEqual(['instrument.state.option.BTC']);
    const term = await c.waitFor((m) => m.params?.channel === 'instrument.state.option.BTC' && (m.params.data as Record<string, unknown>).state === 'terminated', 4000);
    expect(String((term.params!.data as Record<string, unknown>).instrument_name)).toContain('-3MAR25-');
    await c.waitFor((m) => m.params?.channel === 'instrument.state.option.BTC' && (m.params.data as Record<string, unknown>).state === 'created');
    expect(c.raw.some((t) => typeof t === 'string' && t.includes('instrument.state.option.btc'))).toBe(false);
    const instr = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as { instrument_name: string }[];
    expect(instr.some((i) => i.instrument_name.includes('-3MAR25-'))).toBe(false);
    expect(instr.some((i) => i.instrument_name.includes('-6MAR25-'))).toBe(true);
  });
});
