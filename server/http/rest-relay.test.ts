/** The live REST relay (non-sim modes): allow-listed paths and keys only, rate limited. Fake fetch. */
import { describe, expect, it } from 'vitest';
import { createVenues } from '../venues/registry.ts';
import { FaultState } from '../faults/state.ts';
import { MarketSim } from '../sim/market.ts';
import { SimClock } from '../clock.ts';

describe('venue REST relay', () => {
  it('relays only allow-listed paths with allowed keys, and rate-limits', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return new Response('{"code":"0","data":[]}', { status: 200 });
    }) as unknown as typeof fetch;
    const v = createVenues({ faults: new FaultState(), fetchImpl });
    expect(v.names).toEqual([]);
    expect(v.rest('/elsewhere', new URLSearchParams())).toBeUndefined();
    const r = await v.rest('/okx/rest/api/v5/public/instruments', new URLSearchParams('instType=OPTION&instFamily=BTC-USD&evil=1'))!;
    expect(r).toEqual({ status: 200, body: { code: '0', data: [] } });
    expect(calls).toEqual(['https://www.okx.com/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD']);
    expect((await v.rest('/okx/rest/api/v5/account/balance', new URLSearchParams()))!.status).toBe(404);
    expect((await v.rest('/bybit/rest/v5/market/instruments-info', new URLSearchParams('category=option&baseCoin=BTC%0d')))!.status).toBe(400);
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await v.rest('/binance/rest/eapi/v1/exchangeInfo', new URLSearchParams()))!.status);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(calls.at(-1)).toBe('https://eapi.binance.com/eapi/v1/exchangeInfo');
  });

  it('/live/<venue>/rest always relays to the real venue, even when a simulator answers /<venue>/rest', async () => {
    const calls: string[] = [];
    const fetchImpl = (async (url: string) => {
      calls.push(url);
      return new Response('{"code":"0","data":[{"instId":"real"}]}', { status: 200 });
    }) as unknown as typeof fetch;
    const sim = new MarketSim({ seed: 42, startMs: Date.UTC(2026, 10, 24, 9) });
    const v = createVenues({ sim: { sim, clock: new SimClock(Date.UTC(2026, 10, 24, 9), 1) }, faults: new FaultState(), fetchImpl });
    const q = new URLSearchParams('instType=OPTION&instFamily=BTC-USD');
    const simulated = await v.rest('/okx/rest/api/v5/public/instruments', q)!;
    expect(calls).toEqual([]);
    expect((simulated.body as { data: unknown[] }).data.length).toBeGreaterThan(10);
    const live = await v.rest('/live/okx/rest/api/v5/public/instruments', q)!;
    expect(calls).toEqual(['https://www.okx.com/api/v5/public/instruments?instType=OPTION&instFamily=BTC-USD']);
    expect(live.body).toEqual({ code: '0', data: [{ instId: 'real' }] });
    expect(v.rest('/live/elsewhere/rest/x', q)).toBeUndefined();
  });
});
