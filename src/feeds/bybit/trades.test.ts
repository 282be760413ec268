/**
 * Bybit option trades: the recorded 2023-04-05 `publicTrade.BTC` push (../shared/data/feeds/bybit), and
 * for REST `recent-trade` the documented fields (bybit-exchange/docs v5 market/recent-trade; its only
 * response example is a spot trade, so the option rows below are written to those fields).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBybitMessage } from './parse.ts';
import { parseBybitTrade, parseBybitTrades, parseBybitTradesBody } from './trades.ts';
import { sampleDir } from '../../../test/samples.ts';

const options = (JSON.parse(readFileSync(sampleDir('bybit') + 'tardis-node-bybit-options-v5-messages.json', 'utf8')) as { messages: { topic: string; data: unknown[] }[] }).messages;
const push = options.find((m) => m.topic === 'publicTrade.BTC')!;
const restRow = (over: Record<string, unknown> = {}) => ({
  execId: 'a1b2c3d4-0000-5bac-95c3-5fea28404754', symbol: 'BTC-28APR23-29500-C', price: '985', size: '0.5', side: 'Buy', time: '1680652922081', isBlockTrade: false, ...over,
});

describe('Bybit option trades', () => {
  it('the recorded publicTrade.BTC push: S is the taker side, v contracts of one coin (the OI unit), i the trade id, BT block', () => {
    const m = parseBybitMessage(push);
    expect(m).toMatchObject({ kind: 'trades', currency: 'BTC' });
    const dropped: Record<string, number> = {};
    expect(parseBybitTrades((m as { rows: unknown }).rows, 'BTC', dropped)).toEqual([
      { venue: 'bybit', instrument: 'BTC-28APR23-29500-C', tradeId: '0404c393-8419-5bac-95c3-5fea28404754', timestampMs: 1680652922081, takerSide: 'sell', contracts: 0.01, block: false },
    ]);
    expect(dropped).toEqual({});
    const row = push.data[0] as Record<string, unknown>;
    expect(parseBybitTrade({ ...row, S: 'Buy', BT: true }, 'BTC')).toMatchObject({ takerSide: 'buy', block: true });
    // The USDT-settled family's symbols are options of the coin too.
    expect(parseBybitTrade({ ...row, s: 'BTC-28APR23-29500-C-USDT' }, 'BTC')).toMatchObject({ instrument: 'BTC-28APR23-29500-C-USDT' });
    // Another coin's topic is not ours to parse as BTC.
    expect(parseBybitMessage({ ...push, topic: 'publicTrade.SOL' })).toEqual({ kind: 'dropped', reason: 'unknownChannel' });
  });

  it('bad rows are dropped and counted by reason, never thrown', () => {
    const row = push.data[0] as Record<string, unknown>;
    const bad: [unknown, string][] = [
      ['x', 'malformed'],
      [{ ...row, s: undefined }, 'malformed'],
      [{ ...row, s: 'ETH-28APR23-2000-C' }, 'unknownInstrument'],
      [{ ...row, s: 'BTCUSDT' }, 'unknownInstrument'],
      [{ ...row, i: null }, 'badTradeId'],
      [{ ...row, i: 'x'.repeat(65) }, 'badTradeId'],
      [{ ...row, T: -1 }, 'badTimestamp'],
      [{ ...row, S: 'buy' }, 'badSide'],
      [{ ...row, S: undefined }, 'badSide'],
      [{ ...row, v: '-0.01' }, 'badAmount'],
      [{ ...row, v: 'Infinity' }, 'badAmount'],
    ];
    for (const [r, reason] of bad) expect(parseBybitTrade(r, 'BTC')).toBe(reason);
    const dropped: Record<string, number> = {};
    expect(parseBybitTrades([...bad.map(([r]) => r), row], 'BTC', dropped)).toHaveLength(1);
    expect(dropped).toEqual({ malformed: 2, unknownInstrument: 2, badTradeId: 2, badTimestamp: 1, badSide: 2, badAmount: 2 });
  });

  it('REST recent-trade: the same trade ids and sides as the socket, oldest first; an error answer is an error', () => {
    const dropped: Record<string, number> = {};
    const body = { retCode: 0, retMsg: 'OK', result: { category: 'option', list: [restRow({ execId: 'b', time: '1680652922090', isBlockTrade: true, side: 'Sell' }), restRow(), restRow({ side: 'buy' })] } };
    const r = parseBybitTradesBody(body, 'BTC', dropped);
    expect(r).toEqual({
      trades: [
        { venue: 'bybit', instrument: 'BTC-28APR23-29500-C', tradeId: 'a1b2c3d4-0000-5bac-95c3-5fea28404754', timestampMs: 1680652922081, takerSide: 'buy', contracts: 0.5, block: false },
        { venue: 'bybit', instrument: 'BTC-28APR23-29500-C', tradeId: 'b', timestampMs: 1680652922090, takerSide: 'sell', contracts: 0.5, block: true },
      ],
    });
    expect(dropped).toEqual({ badSide: 1 });
    expect(parseBybitTradesBody({ retCode: 10001, retMsg: 'params error', result: {} }, 'BTC', dropped)).toEqual({ error: 'bybit error 10001: params error' });
    expect(parseBybitTradesBody({ retCode: 0, result: { list: 'x' } }, 'BTC', dropped)).toEqual({ error: 'malformed recent-trade body' });
  });
});
