/**
 * Trade history on a Deribit replay (issue 13): `get_last_trades_by_currency_and_time` is answered
 * from the trades the recording holds (channel notifications and recorded history answers, each trade
 * once), only those played by the replay's position, paged as on Deribit; the recorded trade channel
 * plays to its subscribers.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../server.ts';
import { TestClient, sleep } from '../../testing/test-client.ts';

const T0 = Date.UTC(2026, 11, 10, 12);
const P = '/deribit/ws/api/v2';
const trade = (id: string, ts: number, direction: 'buy' | 'sell') => ({ trade_id: id, trade_seq: 1, timestamp: ts, instrument_name: 'BTC-25DEC26-100000-C', direction, amount: 1.5, price: 0.05, iv: 50, index_price: 95_000, mark_price: 0.05, tick_direction: 0 });
const line = (dir: string, ts: number, frame: unknown) => JSON.stringify({ venue: 'deribit', path: P, conn: 1, dir, ts, frame });
const note = (ts: number, data: unknown[]) => line('in', ts, { jsonrpc: '2.0', method: 'subscription', params: { channel: 'trades.option.BTC.100ms', data } });

let srv: RunningServer | undefined;
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
  srv = undefined;
});

describe('Deribit trade history on a replay', () => {
  it('answers from the recorded trades played so far, each once, paged; the channel replays', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gexdesk-trades-')), 'rec.jsonl');
    const history = { currency: 'BTC', kind: 'option', start_timestamp: T0 - 3_600_000, end_timestamp: T0 + 3_600_000, count: 1000, sorting: 'asc' };
    writeFileSync(
      file,
      [
        line('out', T0, { jsonrpc: '2.0', id: 1, method: 'public/subscribe', params: { channels: ['trades.option.BTC.100ms'] } }),
        note(T0 + 100, [trade('A1', T0 + 50, 'buy'), trade('A2', T0 + 90, 'sell')]),
        line('out', T0 + 200, { jsonrpc: '2.0', id: 2, method: 'public/get_last_trades_by_currency_and_time', params: history }),
        line('in', T0 + 250, { jsonrpc: '2.0', id: 2, result: { trades: [trade('H1', T0 - 60_000, 'sell'), trade('A1', T0 + 50, 'buy')], has_more: false }, usIn: (T0 + 200) * 1000, usOut: (T0 + 250) * 1000, usDiff: 50000, testnet: false }),
        note(T0 + 1_500, [trade('B1', T0 + 1_450, 'buy')]),
      ].join('\n') + '\n',
    );
    srv = await startServer({ source: 'replay', file, speed: 1, port: 0, loop: false, log: () => undefined });
    const c = await TestClient.connect(srv.url.replace('http', 'ws') + P);
    clients.push(c);
    await c.call('public/subscribe', { channels: ['trades.option.BTC.100ms'] });
    const ids = async (p: Record<string, unknown> = {}) => {
      const r = (await c.call('public/get_last_trades_by_currency_and_time', { ...history, ...p })).result as { trades: { trade_id: string }[]; has_more: boolean };
      return { ids: r.trades.map((t) => t.trade_id), more: r.has_more };
    };
    const early = await ids();
    expect(early.ids).toContain('A1');
    expect(early.ids).not.toContain('B1'); // not played yet
    const end = Date.now() + 10_000;
    while (!srv.player!.finished && Date.now() < end) await sleep(25);
    await c.waitFor((m) => m.params?.channel === 'trades.option.BTC.100ms' && JSON.stringify(m.params.data).includes('B1'));
    expect(await ids()).toEqual({ ids: ['H1', 'A1', 'A2', 'B1'], more: false });
    expect(await ids({ count: 2 })).toEqual({ ids: ['H1', 'A1'], more: true });
    expect(await ids({ count: 2, sorting: 'desc' })).toEqual({ ids: ['B1', 'A2'], more: true });
    expect(await ids({ start_timestamp: T0 + 90, end_timestamp: T0 + 1_450 })).toEqual({ ids: ['A2', 'B1'], more: false });
    expect(await ids({ currency: 'ETH' })).toEqual({ ids: [], more: false });
    const info = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { tradeHistoryRequests: Record<string, number> };
    expect(info.tradeHistoryRequests.deribit).toBe(6);
  });
});
