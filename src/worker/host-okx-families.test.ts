/**
 * Issue 10: OKX lists two option families per coin, the coin-margined `BTC-USD` and the USD-margined
 * `BTC-USD_UM`; both are options on the BTC-USD index. Through the EngineHost and the real OKX client:
 * the figures are exactly the sum of each family's own (same engine, each family's contract size from
 * its instruments answer), and the status line says how many lines of each family are in.
 */
import { describe, expect, it } from 'vitest';
import { EngineHost } from './host.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage } from './protocol.ts';
import { okxAdapter } from '../feeds/okx/index.ts';
import { parseOkxOptionInstruments } from '../feeds/okx/parse.ts';
import { ChainStore } from '../chain/store.ts';
import { computeGex } from '../engine/index.ts';
import { FakeClock, fakeSockets, flush } from '../feeds/testing.ts';
import type { FetchJson } from '../feeds/rest-fetch.ts';

const T0 = Date.UTC(2026, 11, 1, 9);
const EXPIRIES = ['261204', '261225'];
const STRIKES = [90_000, 100_000, 110_000];
const SPOT = 100_500;

/** Instruments answer of a family: 2 expiries x 3 strikes x call/put. */
function instruments(family: 'BTC-USD' | 'BTC-USD_UM') {
  const um = family === 'BTC-USD_UM';
  const data = EXPIRIES.flatMap((e) => STRIKES.flatMap((k) => (['C', 'P'] as const).map((t) => ({
    instId: `${family}-${e}-${k}-${t}`, instType: 'OPTION', instFamily: family, uly: 'BTC-USD', state: 'live', optType: t, stk: String(k),
    expTime: String(Date.UTC(2000 + Number(e.slice(0, 2)), Number(e.slice(2, 4)) - 1, Number(e.slice(4)), 8)),
    ctVal: um ? '0.01' : '1', ctMult: um ? '1' : '0.1', ctValCcy: 'BTC', settleCcy: um ? 'USD' : 'BTC',
  }))));
  return { code: '0', msg: '', data };
}

const swap = { code: '0', msg: '', data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', ctType: 'linear', ctVal: '0.01', ctMult: '1', ctValCcy: 'BTC' }] };

/** Mark IV per line: a smile, the same on both families (one market); forwards per expiry. */
const ivOf = (k: number, t: string) => 0.5 + Math.abs(k - SPOT) / 400_000 + (t === 'P' ? 0.02 : 0);
const fwdOf = (e: string) => (e === EXPIRIES[0] ? 100_700 : 101_900);
/** Open interest in each family's contracts: different books on each family. */
const oiOf = (family: string, k: number, t: string) => (family === 'BTC-USD' ? 40 + k / 10_000 + (t === 'C' ? 5 : 0) : 350 + k / 1_000 - (t === 'C' ? 20 : 0));

function pushes(family: 'BTC-USD' | 'BTC-USD_UM', ts: number): string[] {
  const ids = instruments(family).data;
  const summary = { arg: { channel: 'opt-summary', instFamily: family }, data: ids.map((r) => {
    const e = r.instId.split('-').at(-3)!;
    return { instType: 'OPTION', instId: r.instId, uly: 'BTC-USD', markVol: String(ivOf(Number(r.stk), r.optType)), fwdPx: String(fwdOf(e)), ts: String(ts) };
  }) };
  const coin = family === 'BTC-USD' ? 0.1 : 0.01;
  const oi = ids.map((r) => {
    const n = oiOf(family, Number(r.stk), r.optType);
    return { arg: { channel: 'open-interest', instId: r.instId }, data: [{ instType: 'OPTION', instId: r.instId, oi: String(n), oiCcy: String(n * coin), ts: String(ts) }] };
  });
  return [summary, ...oi].map((f) => JSON.stringify(f));
}

/** What the engine gives for one family alone, from the same answers and pushes. */
function alone(family: 'BTC-USD' | 'BTC-USD_UM', nowMs: number) {
  const store = new ChainStore('okx', 'BTC');
  store.upsertInstruments(parseOkxOptionInstruments(instruments(family), 'BTC', family).list, true);
  const ids = instruments(family).data;
  store.applyOptions(ids.map((r) => ({
    name: r.instId, timestampMs: nowMs, markIv: ivOf(Number(r.stk), r.optType), forward: fwdOf(r.instId.split('-').at(-3)!), openInterest: oiOf(family, Number(r.stk), r.optType),
  })));
  return computeGex(store.columns(), { spot: SPOT, nowMs, model: 'classic', profileRange: 0.2 });
}

describe('OKX coin- and USD-margined option families through the EngineHost', () => {
  it('are summed exactly as each family alone, each with its own contract size, and counted per family in the status line', async () => {
    const clock = new FakeClock(T0);
    const { factory, sockets } = fakeSockets();
    const fetchJson: FetchJson = async (url) => (url.includes('instType=SWAP') ? swap : url.includes('instFamily=BTC-USD_UM') ? instruments('BTC-USD_UM') : instruments('BTC-USD'));
    const posted: FromWorker[] = [];
    const host: EngineHost = new EngineHost({
      clock, socketFactory: factory, localBase: 'ws://127.0.0.1:1', adapters: [okxAdapter],
      feedOptions: { random: () => 0.5, fetchJson },
      post: (msg) => {
        posted.push(msg);
        if (msg.type === 'result') host.handle({ type: 'ack', seq: msg.seq });
      },
    });
    host.handle({ type: 'select', selection: { source: 'sim', venues: ['okx'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS } });
    await flush();
    const s = sockets[0];
    s.open();
    clock.advance(1_000);
    const ts = T0 + 500;
    for (const f of [...pushes('BTC-USD', ts), ...pushes('BTC-USD_UM', ts)]) s.receive(f);
    s.receive(JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: String(SPOT), ts: String(ts) }] }));
    clock.advance(1_000);
    const r = posted.filter((m): m is ResultMessage => m.type === 'result').at(-1)!;
    expect(r.gex.nowMs).toBe(ts);
    expect(r.gex.spot).toBe(SPOT);

    const coin = alone('BTC-USD', ts);
    const um = alone('BTC-USD_UM', ts);
    // the same strikes on both families: one bar per strike carrying both
    expect(Array.from(r.gex.strikes)).toEqual(STRIKES);
    expect(Array.from(coin.strikes)).toEqual(STRIKES);
    expect(r.gex.includedLines).toBe(coin.includedLines + um.includedLines);
    expect(r.gex.includedLines).toBe(24);
    for (let k = 0; k < STRIKES.length; k++) {
      expect(r.gex.netGex[k]).toBeCloseTo(coin.netGex[k] + um.netGex[k], 6);
      expect(Math.abs(r.gex.netGex[k] - (coin.netGex[k] + um.netGex[k]))).toBeLessThanOrEqual(1e-12 * Math.abs(r.gex.netGex[k]));
      expect(Math.abs(r.gex.callGex[k] - (coin.callGex[k] + um.callGex[k]))).toBeLessThanOrEqual(1e-12 * Math.abs(r.gex.callGex[k]));
    }
    expect(Math.abs(r.gex.totalNetGex - (coin.totalNetGex + um.totalNetGex))).toBeLessThanOrEqual(1e-12 * Math.abs(r.gex.totalNetGex));
    // the USD-margined OI counts at 0.01 BTC a contract, the coin family's at 0.1: neither is negligible here
    expect(Math.abs(um.totalNetGex)).toBeGreaterThan(0.2 * Math.abs(coin.totalNetGex));
    for (let k = 0; k < r.gex.moves.length; k++) {
      expect(Math.abs(r.gex.hedgeFlowUnits[k] - (coin.hedgeFlowUnits[k] + um.hedgeFlowUnits[k]))).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(r.gex.hedgeFlowUnits[k])));
    }

    const h = host.health()[0];
    expect(h.families).toEqual([
      { family: 'BTC-USD', settleCurrency: 'BTC', lines: 12, linesIn: 12 },
      { family: 'BTC-USD_UM', settleCurrency: 'USD', lines: 12, linesIn: 12 },
    ]);
    expect(h.dropped).toEqual({});

    // an expiry selection counts the lines of the selected expiries only; an unlisted family line has no data
    const e2 = Date.UTC(2026, 11, 25, 8);
    host.handle({ type: 'select', selection: { source: 'sim', venues: ['okx'], currency: 'BTC', expiries: [e2], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS } });
    clock.advance(1_000);
    expect(host.health()[0].families).toEqual([
      { family: 'BTC-USD', settleCurrency: 'BTC', lines: 6, linesIn: 6 },
      { family: 'BTC-USD_UM', settleCurrency: 'USD', lines: 6, linesIn: 6 },
    ]);
    host.dispose();
  });
});
