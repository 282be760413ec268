/**
 * OKX option trades. No recorded `option-trades` push exists in ../shared/data/feeds/okx: the push and
 * the REST answer below are OKX's documented examples (docs-v5 "WS / Option trades channel" and
 * "GET / Option trades", as scraped 2026-06-15), checked against the recorded 2023 `trades-all` push of
 * an option (same row fields, real values).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseOkxMessage } from './parse.ts';
import { parseOkxTrade, parseOkxTrades, parseOkxTradesBody } from './trades.ts';
import { sampleDir } from '../../../test/samples.ts';

const recorded = (JSON.parse(readFileSync(sampleDir('okx') + 'ws-other-channels-2023-12-01.json', 'utf8')) as Record<string, { data: unknown[] }>)['trades-all'];

/** docs-v5 "WS / Option trades channel", push data example. */
const OKX_DOC_PUSH = {
  arg: { channel: 'option-trades', instType: 'OPTION', instFamily: 'BTC-USD' },
  data: [{
    fillVol: '0.5066007836914062', fwdPx: '16469.69928595038', idxPx: '16537.2', instFamily: 'BTC-USD', instId: 'BTC-USD-230224-18000-C',
    markPx: '0.04690107010619562', optType: 'C', px: '0.045', side: 'sell', sz: '2', tradeId: '38', ts: '1672286551080',
  }],
};
/** docs-v5 "GET / Option trades", response example. */
const OKX_DOC_REST = {
  code: '0',
  data: [{
    fillVol: '0.24415013671875', fwdPx: '16676.907614127158', idxPx: '16667', instFamily: 'BTC-USD', instId: 'BTC-USD-221230-16600-P',
    markPx: '0.006308943261227884', optType: 'P', px: '0.005', side: 'sell', sz: '30', tradeId: '65', ts: '1672225112048',
  }],
  msg: '',
};

describe('OKX option trades', () => {
  it('the documented push: taker side, contracts (the OI lines\' unit), a venue-wide trade id, no block', () => {
    const m = parseOkxMessage(OKX_DOC_PUSH, { multipliers: new Map() });
    expect(m).toMatchObject({ kind: 'trades', currency: 'BTC', family: 'BTC-USD' });
    const dropped: Record<string, number> = {};
    const trades = parseOkxTrades((m as { rows: unknown[] }).rows, 'BTC', dropped);
    expect(trades).toEqual([
      { venue: 'okx', instrument: 'BTC-USD-230224-18000-C', tradeId: 'BTC-USD-230224-18000-C:38', timestampMs: 1672286551080, takerSide: 'sell', contracts: 2, block: false },
    ]);
    expect(dropped).toEqual({});
    // A family we do not chart is not a trade push of ours.
    expect(parseOkxMessage({ ...OKX_DOC_PUSH, arg: { ...OKX_DOC_PUSH.arg, instFamily: 'SOL-USD' } }, { multipliers: new Map() })).toEqual({ kind: 'dropped', reason: 'unknownInstrument' });
  });

  it('a recorded option trade row (trades-all, 2023-12-01) reads the same way', () => {
    expect(parseOkxTrade(recorded.data[0], 'BTC')).toEqual({
      venue: 'okx', instrument: 'BTC-USD-231229-42000-C', tradeId: 'BTC-USD-231229-42000-C:877', timestampMs: 1701388808817, takerSide: 'buy', contracts: 50, block: false,
    });
  });

  it('the USD-margined family is charted too; sizes follow the family\'s OI unit when OKX\'s OI pushes showed another contract size', () => {
    const um = { ...OKX_DOC_PUSH.data[0], instId: 'BTC-USD_UM-230224-18000-C', instFamily: 'BTC-USD_UM' };
    expect(parseOkxTrade(um, 'BTC')).toMatchObject({ instrument: 'BTC-USD_UM-230224-18000-C', contracts: 2 });
    const ctx = { oiUnitsPerContract: (family: string) => (family === 'BTC-USD' ? 0.1 : 1) };
    expect(parseOkxTrade(OKX_DOC_PUSH.data[0], 'BTC', ctx)).toMatchObject({ contracts: expect.closeTo(0.2, 12) });
    expect(parseOkxTrade(um, 'BTC', ctx)).toMatchObject({ contracts: 2 });
  });

  it('bad rows are dropped and counted by reason, never thrown', () => {
    const row = OKX_DOC_PUSH.data[0];
    const bad: [unknown, string][] = [
      [null, 'malformed'],
      [{ ...row, instId: 42 }, 'malformed'],
      [{ ...row, instId: 'ETH-USD-230224-1800-C' }, 'unknownInstrument'], // another coin on a BTC feed
      [{ ...row, instId: 'BTC-USDC-230224-18000-C' }, 'unknownInstrument'], // a family we do not chart
      [{ ...row, instId: 'BTC-USD-SWAP' }, 'unknownInstrument'],
      [{ ...row, tradeId: '' }, 'badTradeId'],
      [{ ...row, ts: 'soon' }, 'badTimestamp'],
      [{ ...row, ts: '1672286551080.5' }, 'badTimestamp'],
      [{ ...row, side: 'Buy' }, 'badSide'],
      [{ ...row, sz: '-1' }, 'badAmount'],
      [{ ...row, sz: 'NaN' }, 'badAmount'],
      [{ ...row, sz: '1e400' }, 'badAmount'],
    ];
    for (const [r, reason] of bad) expect(parseOkxTrade(r, 'BTC')).toBe(reason);
    const dropped: Record<string, number> = {};
    expect(() => parseOkxTrades([...bad.map(([r]) => r), row], 'BTC', dropped)).not.toThrow();
    expect(dropped).toEqual({ malformed: 2, unknownInstrument: 3, badTradeId: 1, badTimestamp: 2, badSide: 1, badAmount: 3 });
    expect(parseOkxTrades('nope', 'BTC', dropped)).toEqual([]);
    expect(dropped.malformed).toBe(3);
  });

  it('REST option-trades: oldest first; an OKX error or a malformed body is an error, not an empty page', () => {
    const later = { ...OKX_DOC_REST.data[0], tradeId: '66', ts: '1672225112049' };
    const dropped: Record<string, number> = {};
    const r = parseOkxTradesBody({ ...OKX_DOC_REST, data: [later, OKX_DOC_REST.data[0]] }, 'BTC', dropped);
    expect('trades' in r && r.trades.map((t) => t.tradeId)).toEqual(['BTC-USD-221230-16600-P:65', 'BTC-USD-221230-16600-P:66']);
    expect('trades' in r && r.trades[0]).toMatchObject({ takerSide: 'sell', contracts: 30, timestampMs: 1672225112048 });
    expect(parseOkxTradesBody({ code: '51000', msg: 'Parameter instFamily error', data: [] }, 'BTC', dropped)).toEqual({ error: 'okx error 51000: Parameter instFamily error' });
    expect(parseOkxTradesBody('<html>', 'BTC', dropped)).toEqual({ error: 'malformed option-trades body' });
  });
});
