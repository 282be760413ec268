import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseFrame } from '../frame-guard.ts';
import { MAX_FRAME_BYTES_LIVE } from '../limits.ts';
import { parseDeribitFrame, parseNotification, type DeribitMessage } from './parse.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('deribit');
const readJson = (f: string) => JSON.parse(readFileSync(DIR + f, 'utf8'));

function must(frame: unknown): DeribitMessage {
  const r = parseDeribitFrame(frame);
  if (!r.ok) throw new Error(`dropped: ${r.reason} ${JSON.stringify(frame).slice(0, 200)}`);
  return r.value;
}
const wrap = (channel: string, data: unknown) => ({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } });
const EXP_30JUL21 = Date.UTC(2021, 6, 30, 8);

describe('the 2021-07-22 websocket capture, every frame', () => {
  const lines = readFileSync(DIR + 'ws-capture-2021-07-22.jsonl', 'utf8').trim().split('\n');
  const server = lines.map((l) => JSON.parse(l)).filter((o) => o.dir === 'server->client');

  it('parses all 136 server frames from their raw text: 1 response, 89 option tickers, 46 books, no drops', () => {
    const kinds: Record<string, number> = {};
    for (const o of server) {
      const text = JSON.stringify(o.frame);
      const f = parseFrame(text, MAX_FRAME_BYTES_LIVE);
      expect(f.ok).toBe(true);
      const m = must((f as { value: unknown }).value);
      kinds[m.kind] = (kinds[m.kind] ?? 0) + 1;
    }
    expect(kinds).toEqual({ response: 1, optionTicker: 89, book: 46 });
  });

  it('the subscribe response lists the 30 channels', () => {
    const m = must(server[0].frame);
    expect(m.kind).toBe('response');
    if (m.kind !== 'response') return;
    expect(m.id).toBe(0);
    expect((m.result as string[]).length).toBe(30);
  });

  it('ETH-30JUL21-2800-C: mark_iv 120.74 % -> 1.2074, forward 2003.61, OI 12685 coin', () => {
    const m = must(server[1].frame);
    expect(m.kind).toBe('optionTicker');
    if (m.kind !== 'optionTicker') return;
    expect(m.ticker).toMatchObject({ name: 'ETH-30JUL21-2800-C', currency: 'ETH', expiryMs: EXP_30JUL21, strike: 2800, isCall: true, expired: false });
    expect(m.ticker.update).toEqual({ name: 'ETH-30JUL21-2800-C', timestampMs: 1626993723632, markIv: 1.2074, forward: 2003.61, openInterest: 12685 });
  });

  it('the last frame: BTC-31DEC21-34000-P iv 0.8002, forward 32749.6, OI 4.6', () => {
    const m = must(server[server.length - 1].frame);
    if (m.kind !== 'optionTicker') throw new Error(m.kind);
    expect(m.ticker.update).toMatchObject({ forward: 32749.6, openInterest: 4.6, timestampMs: 1626993754148 });
    expect(m.ticker.update!.markIv).toBeCloseTo(0.8002, 12);
  });

  it('every ticker forward is positive and every iv decimal in (0, 10]', () => {
    for (const o of server) {
      const m = must(o.frame);
      if (m.kind !== 'optionTicker' || !m.ticker.update) continue;
      expect(m.ticker.update.forward).toBeGreaterThan(0);
      expect(m.ticker.update.markIv).toBeGreaterThan(0);
      expect(m.ticker.update.markIv).toBeLessThanOrEqual(10);
    }
  });

  it('a client request frame is not taken for data', () => {
    const client = lines.map((l) => JSON.parse(l)).find((o) => o.dir === 'client->server');
    expect(parseDeribitFrame(client.frame)).toEqual({ ok: false, reason: 'unknownChannel' });
  });
});

describe('tardis-node recorded notifications', () => {
  const msgs = readJson('tardis-node-mapper-test-messages.json').messages as { params: { channel: string } }[];
  const byChannel = (c: string) => msgs.filter((m) => m.params.channel === c);

  it('BTC-PERPETUAL ticker: OI 66,128,281 USD / mark 10094.1 -> coin; funding_8h', () => {
    const m = must(byChannel('ticker.BTC-PERPETUAL.raw')[0]);
    if (m.kind !== 'perpTicker') throw new Error(m.kind);
    expect(m.ticker).toMatchObject({ instrument: 'BTC-PERPETUAL', currency: 'BTC', markPrice: 10094.1, indexPrice: 10091.15, funding8h: 0.00016281, currentFunding: 0, bestBid: 10095, bestAsk: 10095.5 });
    expect(m.ticker.openInterestCoin).toBeCloseTo(66128281 / 10094.1, 6);
    expect(m.ticker.openInterestCoin).toBeCloseTo(6551.18, 1);
    const m2 = must(byChannel('ticker.BTC-PERPETUAL.raw')[1]);
    if (m2.kind !== 'perpTicker') throw new Error(m2.kind);
    expect(m2.ticker.funding8h).toBe(-8.477e-5);
  });

  it('the expired option (state closed, estimated_delivery_price "expired") yields no figures', () => {
    const m = must(byChannel('ticker.BTC-8JUN20-8750-P.raw')[0]);
    if (m.kind !== 'optionTicker') throw new Error(m.kind);
    expect(m.ticker.expired).toBe(true);
    expect(m.ticker.update).toBeNull();
    expect(m.ticker.expiryMs).toBe(Date.UTC(2020, 5, 8, 8));
  });

  it('BTC-5JUN20-9250-C: iv 0.6321, forward 9440.73, OI 533.2', () => {
    const m = must(byChannel('ticker.BTC-5JUN20-9250-C.raw')[0]);
    if (m.kind !== 'optionTicker') throw new Error(m.kind);
    expect(m.ticker.update).toEqual({ name: 'BTC-5JUN20-9250-C', timestampMs: 1590969652595, markIv: 0.6321, forward: 9440.73, openInterest: 533.2 });
  });

  it('combos, linear USDC options, trades and quotes are dropped with a reason, never thrown', () => {
    const reasons: Record<string, string> = {};
    for (const m of msgs) {
      const r = parseDeribitFrame(m);
      if (!r.ok) reasons[m.params.channel] = r.reason;
    }
    expect(reasons).toEqual({
      'trades.BTC-PERPETUAL.raw': 'unknownChannel',
      'quote.BTC-PERPETUAL': 'unknownChannel',
      'ticker.BTC-STRD-30SEP22-20000.raw': 'unknownInstrument',
      'ticker.BTC-FS-30SEP22_PERP.raw': 'unknownInstrument',
      'ticker.BTC-CSR12-16SEP22-21000_23000.raw': 'unknownInstrument',
      'ticker.MATIC_USDC-9MAR24-1d02-C.raw': 'unknownInstrument',
    });
  });
});

describe('documentation examples (AsyncAPI data, wrapped as on the wire)', () => {
  const docs = readJson('docs-asyncapi-channel-examples.json');
  const example = (k: string) => docs[k].examples.subscription_message[0].payload;

  it('perpetual ticker: OI 502,097,590 USD / mark 36446.51', () => {
    const m = must(wrap('ticker.BTC-PERPETUAL.100ms', example('ticker.(instrument_name).(interval)')));
    if (m.kind !== 'perpTicker') throw new Error(m.kind);
    expect(m.ticker.openInterestCoin).toBeCloseTo(502097590 / 36446.51, 6);
    expect(m.ticker.funding8h).toBe(2.11e-5);
    expect(m.ticker.timestampMs).toBe(1623060194301);
  });

  it('markprice.options: five rows, iv decimal 0.9', () => {
    const m = must(wrap('markprice.options.btc_usd', example('markprice.options.(index_name)')));
    if (m.kind !== 'markprice') throw new Error(m.kind);
    expect(m.updates).toHaveLength(5);
    expect(m.updates[0]).toEqual({ name: 'BTC-2JUN21-37000-P', timestampMs: 1622470378005, markIv: 0.9 });
    expect(m.dropped).toEqual({});
  });

  it('price index and instrument.state', () => {
    expect(must(wrap('deribit_price_index.btc_usd', example('deribit_price_index.(index_name)')))).toEqual({ kind: 'index', currency: 'BTC', price: 3937.89, timestampMs: 1550588002899 });
    expect(must(wrap('instrument.state.option.btc', example('instrument.state.(kind).(currency)')))).toEqual({ kind: 'instrumentState', name: 'BTC-22MAR19', state: 'created', timestampMs: 1553080940000 });
    // An index frame on the wrong channel is not trusted.
    expect(parseDeribitFrame(wrap('deribit_price_index.eth_usd', example('deribit_price_index.(index_name)')))).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('verbatim snippets', () => {
  const snippets = readJson('misc-verbatim-snippets.json');
  const markKey = Object.keys(snippets).find((k) => k.startsWith('markprice.options.btc_usd'))!;

  it('markprice.options iv is a decimal: BTC-31JUL26-67000-C 0.3706, BTC-31JUL26-106000-P 0.6527', () => {
    const m = must(snippets[markKey]);
    if (m.kind !== 'markprice') throw new Error(m.kind);
    expect(m.currency).toBe('BTC');
    expect(m.updates).toEqual([
      { name: 'BTC-31JUL26-67000-C', timestampMs: 1785079023870, markIv: 0.3706 },
      { name: 'BTC-31JUL26-106000-P', timestampMs: 1785079023870, markIv: 0.6527 },
    ]);
  });

  it('heartbeat test_request in both key orders', () => {
    for (const k of Object.keys(snippets).filter((k) => k.startsWith('server heartbeat'))) {
      expect(must(snippets[k])).toEqual({ kind: 'heartbeat', testRequest: true });
    }
    expect(must({ jsonrpc: '2.0', method: 'heartbeat', params: { type: 'heartbeat' } })).toEqual({ kind: 'heartbeat', testRequest: false });
  });
});

describe('errors and bad input', () => {
  it('a Deribit error frame keeps its id, code and message', () => {
    const m = must({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found' }, usIn: 1, usOut: 2, usDiff: 1, testnet: false });
    expect(m).toMatchObject({ kind: 'error', id: 7, code: -32601 });
    const rl = must({ jsonrpc: '2.0', id: 9, error: { code: 10028, message: 'too_many_requests' } });
    expect(rl).toMatchObject({ kind: 'error', id: 9, code: 10028 });
  });

  const good = { underlying_price: 50000, timestamp: 1700000000000, state: 'open', open_interest: 10, mark_iv: 60, instrument_name: 'BTC-27DEC24-100000-C' };
  const ch = 'ticker.BTC-27DEC24-100000-C.100ms';
  it('option ticker bounds: negative OI, iv 1e9, iv 0, 1e400, NaN string, forward 0', () => {
    expect(parseNotification(ch, good).ok).toBe(true);
    const bad = (patch: Record<string, unknown>) => parseNotification(ch, { ...good, ...patch });
    expect(bad({ open_interest: -1 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ mark_iv: 1e9 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ mark_iv: 0 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ mark_iv: JSON.parse('1e400') })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ open_interest: 'NaN' })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ underlying_price: 0 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ timestamp: 1700000000 })).toEqual({ ok: false, reason: 'badNumber' });
    expect(bad({ instrument_name: 'BTC-27DEC24-90000-C' })).toEqual({ ok: false, reason: 'malformed' });
    expect(parseNotification('ticker.BTC-27DEC24-0-C.100ms', { ...good, instrument_name: 'BTC-27DEC24-0-C' }).ok).toBe(false);
  });

  it('markprice drops bad rows one by one and keeps the good ones', () => {
    const r = parseNotification('markprice.options.btc_usd', [
      { instrument_name: 'BTC-27DEC24-100000-C', iv: 0.55, mark_price: 0.01, timestamp: 1700000000000 },
      { instrument_name: 'BTC-27DEC24-100000-P', iv: 1e9, mark_price: 0.01, timestamp: 1700000000000 },
      { instrument_name: 'BTC-27DEC24-90000-P', iv: -0.1, mark_price: 0.01, timestamp: 1700000000000 },
      { instrument_name: 'BTC-27DEC24-80000-P', iv: 'NaN', timestamp: 1700000000000 },
      'garbage',
      { iv: 0.5, timestamp: 1700000000000 },
    ]);
    if (!r.ok || r.value.kind !== 'markprice') throw new Error('expected markprice');
    expect(r.value.updates).toEqual([{ name: 'BTC-27DEC24-100000-C', timestampMs: 1700000000000, markIv: 0.55 }]);
    expect(r.value.dropped).toEqual({ badNumber: 3, malformed: 2 });
  });

  it('envelopes: not an object, unknown method, channel missing, unknown channel, perp with negative OI', () => {
    expect(parseDeribitFrame([1, 2])).toEqual({ ok: false, reason: 'malformed' });
    expect(parseDeribitFrame('x')).toEqual({ ok: false, reason: 'malformed' });
    expect(parseDeribitFrame({ jsonrpc: '2.0', method: 'subscription', params: { data: {} } })).toEqual({ ok: false, reason: 'malformed' });
    expect(parseDeribitFrame({ jsonrpc: '2.0', method: 'subscription', params: { channel: 'deribit_volatility_index.btc_usd', data: {} } })).toEqual({ ok: false, reason: 'unknownChannel' });
    expect(parseDeribitFrame({ jsonrpc: '1.0', id: 1, result: 'ok' })).toEqual({ ok: false, reason: 'malformed' });
    expect(
      parseNotification('ticker.BTC-PERPETUAL.100ms', { instrument_name: 'BTC-PERPETUAL', timestamp: 1700000000000, mark_price: 100, index_price: 100, open_interest: -5 }),
    ).toEqual({ ok: false, reason: 'badNumber' });
  });
});
