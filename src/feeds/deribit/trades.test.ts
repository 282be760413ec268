/**
 * Deribit option trades: the AsyncAPI example of `trades.option.{currency}.100ms` and a recorded
 * perpetual trade (../shared/data/feeds/deribit), through the notification parser.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDeribitFrame } from './parse.ts';
import { parseTrade } from './trades.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('deribit');
const asyncapi = JSON.parse(readFileSync(DIR + 'docs-asyncapi-channel-examples.json', 'utf8')) as Record<string, { examples: { subscription_message: { payload: unknown }[] } }>;
const docRows = asyncapi['trades.(kind).(currency).(interval)'].examples.subscription_message[0].payload as Record<string, unknown>[];
const tardis = (JSON.parse(readFileSync(DIR + 'tardis-node-mapper-test-messages.json', 'utf8')) as { messages: { params?: { channel: string; data: unknown[] } }[] }).messages;
const perpTrade = tardis.find((m) => m.params?.channel === 'trades.BTC-PERPETUAL.raw')!.params!.data[0];
const note = (channel: string, data: unknown) => ({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });

describe('Deribit option trades channel', () => {
  it('the documented notification: direction is the taker side, amount in coin (the OI unit); a block leg is flagged', () => {
    const r = parseDeribitFrame(note('trades.option.BTC.100ms', [...docRows, { ...docRows[0], trade_id: '48079290', block_trade_id: '154' }]));
    expect(r).toEqual({
      ok: true,
      value: {
        kind: 'trades',
        currency: 'BTC',
        trades: [
          { venue: 'deribit', instrument: 'BTC-27MAY20-9000-C', tradeId: '48079289', timestampMs: 1590484589306, takerSide: 'sell', contracts: 3, block: false },
          { venue: 'deribit', instrument: 'BTC-27MAY20-9000-C', tradeId: '48079290', timestampMs: 1590484589306, takerSide: 'sell', contracts: 3, block: true },
        ],
        dropped: {},
      },
    });
  });

  it('rows that are not the currency\'s options, or are bad, are counted; other trade channels are not ours', () => {
    const r = parseDeribitFrame(note('trades.option.BTC.100ms', [perpTrade, { ...docRows[0], direction: 'up' }, { ...docRows[0], amount: -3 }, 5]));
    expect(r).toMatchObject({ ok: true, value: { kind: 'trades', trades: [], dropped: { notOption: 1, badSide: 1, badAmount: 1, malformed: 1 } } });
    expect(parseTrade({ ...docRows[0], instrument_name: 'ETH-27MAY20-200-C' }, 'BTC')).toBe('notOption');
    expect(parseDeribitFrame(note('trades.future.BTC.100ms', []))).toEqual({ ok: false, reason: 'unknownChannel' });
    expect(parseDeribitFrame(note('trades.option.SOL.100ms', []))).toEqual({ ok: false, reason: 'unknownChannel' });
    expect(parseDeribitFrame(note('trades.option.BTC.100ms', {}))).toEqual({ ok: false, reason: 'malformed' });
  });
});
