import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { LevelBook, depthWithinBands } from '../level-book.ts';
import {
  okxBookChecksum,
  parseOkxBookSnapshot,
  parseOkxMessage,
  parseOkxOptionInstruments,
  parseOkxOptionName,
  parseOkxSwapSpec,
  type OkxMessage,
} from './parse.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('okx');
const json = (f: string): unknown => JSON.parse(readFileSync(DIR + f, 'utf8'));
const noCtx = { multipliers: new Map<string, number>() };

function expectKind<K extends OkxMessage['kind']>(m: OkxMessage, kind: K): Extract<OkxMessage, { kind: K }> {
  expect(m.kind).toBe(kind);
  return m as Extract<OkxMessage, { kind: K }>;
}

describe('OKX instruments (REST, real 2022-05-13 lists)', () => {
  it('BTC-USD options: strike, 08:00 UTC expiry, 0.1 BTC per contract', () => {
    const r = parseOkxOptionInstruments(json('rest-public-instruments-OPTION-BTC-USD-2022-05-13.json'), 'BTC');
    expect(r.error).toBeNull();
    expect(r.drops).toEqual([]);
    expect(r.list).toHaveLength(346);
    const i = r.list.find((x) => x.name === 'BTC-USD-220514-22000-C');
    expect(i).toEqual({
      venue: 'okx',
      name: 'BTC-USD-220514-22000-C',
      currency: 'BTC',
      strike: 22000,
      expiryMs: Date.UTC(2022, 4, 14, 8),
      isCall: true,
      multiplier: 0.1,
      family: 'BTC-USD',
      settleCurrency: 'BTC',
    });
    // Every instrument's expTime is the name's date at 08:00 UTC.
    for (const x of r.list) expect(parseOkxOptionName(x.name)?.expiryMs).toBe(x.expiryMs);
  });

  it('ETH-USD list says 1 ETH per contract (ctMult 1); the wrong-currency call yields nothing', () => {
    const body = json('rest-public-instruments-OPTION-ETH-USD-2022-05-13.json');
    const r = parseOkxOptionInstruments(body, 'ETH');
    expect(r.list).toHaveLength(350);
    expect(r.list[0].multiplier).toBe(1);
    const wrong = parseOkxOptionInstruments(body, 'BTC');
    expect(wrong.list).toHaveLength(0);
    expect(wrong.drops.length).toBe(350);
  });

  it('swap spec: BTC-USDT-SWAP is 0.01 BTC, ETH-USDT-SWAP 0.1 ETH; the inverse USD swap is refused', () => {
    const body = json('rest-public-instruments-SWAP-2022-05-13.json');
    expect(parseOkxSwapSpec(body, 'BTC-USDT-SWAP', 'BTC')).toEqual({ instId: 'BTC-USDT-SWAP', coinPerContract: 0.01 });
    expect(parseOkxSwapSpec(body, 'ETH-USDT-SWAP', 'ETH')).toEqual({ instId: 'ETH-USDT-SWAP', coinPerContract: 0.1 });
    expect(parseOkxSwapSpec(body, 'BTC-USD-SWAP', 'BTC')).toBeNull();
  });

  it('an OKX error body is reported (as the venue refusing), not thrown', () => {
    const r = parseOkxOptionInstruments({ code: '51001', msg: 'Instrument ID does not exist', data: [] }, 'BTC');
    expect(r.error).toContain('51001');
    expect(r.refused).toBe(true);
    expect(parseOkxOptionInstruments({ data: 'x' }, 'BTC').refused).toBeUndefined();
  });

  it('USD-margined family BTC-USD_UM: its own names, contract size and settlement from the answer; the other family is not mixed in', () => {
    const row = (instId: string, extra: Record<string, string> = {}) => ({
      instId, instType: 'OPTION', instFamily: 'BTC-USD_UM', uly: 'BTC-USD', state: 'live', optType: 'C', stk: '100000',
      expTime: String(Date.UTC(2026, 11, 25, 8)), ctVal: '0.01', ctMult: '1', ctValCcy: 'BTC', settleCcy: 'USD', ...extra,
    });
    const body = { code: '0', msg: '', data: [row('BTC-USD_UM-261225-100000-C'), row('BTC-USD-261225-100000-C'), row('BTC-USD_UM-261225-90000-P', { optType: 'P', stk: '90000', ctValCcy: 'USD' })] };
    const r = parseOkxOptionInstruments(body, 'BTC', 'BTC-USD_UM');
    expect(r.list).toEqual([
      { venue: 'okx', name: 'BTC-USD_UM-261225-100000-C', currency: 'BTC', strike: 100000, expiryMs: Date.UTC(2026, 11, 25, 8), isCall: true, multiplier: 0.01, family: 'BTC-USD_UM', settleCurrency: 'USD' },
    ]);
    // the coin family's name in the UM answer is not this family; a contract not sized in the coin cannot be used
    expect(r.drops).toEqual(['unknownInstrument', 'badNumber']);
    expect(parseOkxOptionName('ETH-USD_UM-261225-4000-P')).toMatchObject({ currency: 'ETH', family: 'ETH-USD_UM', strike: 4000, isCall: false });
    // an opt-summary push of the UM family carries only its own lines
    const push = { arg: { channel: 'opt-summary', instFamily: 'BTC-USD_UM' }, data: [
      { instId: 'BTC-USD_UM-261225-100000-C', markVol: '0.5', fwdPx: '101000', ts: '1782000000000' },
      { instId: 'BTC-USD-261225-100000-C', markVol: '0.5', fwdPx: '101000', ts: '1782000000000' },
    ] };
    const m = expectKind(parseOkxMessage(push, noCtx), 'options');
    expect(m.updates.map((u) => u.name)).toEqual(['BTC-USD_UM-261225-100000-C']);
    expect(m.drops).toEqual(['unknownInstrument']);
  });
});

describe('OKX opt-summary (real push, 2023-12-01 00:00:00.085 UTC)', () => {
  const frame = json('ws-opt-summary-BTC-USD-2023-12-01T000000085Z.json');
  const m = expectKind(parseOkxMessage(frame, noCtx), 'options');

  it('64 lines with decimal IV and the expiry forward', () => {
    expect(m.currency).toBe('BTC');
    expect(m.drops).toEqual([]);
    expect(m.updates).toHaveLength(64);
    const put = m.updates.find((u) => u.name === 'BTC-USD-231229-40000-P');
    expect(put).toEqual({ name: 'BTC-USD-231229-40000-P', timestampMs: 1701388800085, markIv: 0.4686517873, forward: 38026.372899316 });
  });

  it('one forward per expiry, 11 expiries, at 08:00 UTC', () => {
    expect(m.forwards).toHaveLength(11);
    const dec29 = m.forwards.find((f) => f.expiryMs === Date.UTC(2023, 11, 29, 8));
    expect(dec29?.forward).toBe(38026.372899316);
    const sep27 = m.forwards.find((f) => f.expiryMs === Date.UTC(2024, 8, 27, 8));
    expect(sep27?.forward).toBe(40319.3387431518);
  });

  it('the 2021 form keyed by uly parses too (ETH)', () => {
    const msgs = (json('tardis-node-okex-options-v5-messages.json') as { messages: unknown[] }).messages;
    const sums = msgs.map((x) => parseOkxMessage(x, noCtx)).filter((x) => x.kind === 'options');
    expect(sums).toHaveLength(2);
    const first = expectKind(sums[0], 'options');
    expect(first.currency).toBe('ETH');
    expect(first.updates[0]).toEqual({ name: 'ETH-USD-211222-4000-C', timestampMs: 1640001659301, markIv: 0.7794507758 });
    expect(first.forwards).toEqual([]);
  });
});

describe('OKX open interest, index, perpetual (real pushes)', () => {
  it('option OI: oiCcy is trusted; ctMult 0.1 agrees, the 2022 list\'s ctMult 1 is flagged', () => {
    const frame = (json('ws-other-channels-2023-12-01.json') as Record<string, unknown>)['open-interest'];
    const ok = expectKind(parseOkxMessage(frame, { multipliers: new Map([['ETH-USD-240126-1900-C', 0.1]]) }), 'options');
    expect(ok.updates).toEqual([{ name: 'ETH-USD-240126-1900-C', timestampMs: 1701388801195, openInterest: 4229 }]);
    expect(ok.multiplierMismatch).toEqual([]);
    // 4229 contracts x 0.1 = 422.9 ETH, the coin OI the venue states.
    expect(ok.updates[0].openInterest! * 0.1).toBeCloseTo(422.9, 9);
    const off = expectKind(parseOkxMessage(frame, { multipliers: new Map([['ETH-USD-240126-1900-C', 1]]) }), 'options');
    expect(off.updates[0].openInterest).toBeCloseTo(422.9, 9);
    expect(off.multiplierMismatch).toEqual([{ name: 'ETH-USD-240126-1900-C', coinPerContract: expect.closeTo(0.1, 12) }]);
    // Unknown instrument (not in the REST list): dropped.
    expect(parseOkxMessage(frame, noCtx)).toEqual({ kind: 'dropped', reason: 'unknownInstrument' });
  });

  it('index, swap mark, swap OI, funding', () => {
    const opt = (json('tardis-node-okex-options-v5-messages.json') as { messages: unknown[] }).messages;
    const idx = opt.map((x) => parseOkxMessage(x, noCtx)).find((x) => x.kind === 'index');
    expect(idx).toEqual({ kind: 'index', instId: 'ETH-USD', price: 3814.05, timestampMs: 1640001659508 });
    const swap = (json('tardis-node-okex-swap-v5-messages.json') as { messages: unknown[] }).messages.map((x) => parseOkxMessage(x, noCtx));
    expect(swap.find((x) => x.kind === 'perpMark')).toEqual({ kind: 'perpMark', instId: 'WNCG-USDT-SWAP', markPrice: 2.1729, timestampMs: 1640131259180 });
    expect(swap.find((x) => x.kind === 'perpOi')).toEqual({ kind: 'perpOi', instId: 'WNCG-USDT-SWAP', oiCoin: 644195, timestampMs: 1640131258756 });
    // No nextFundingTime in 2021 pushes: 8 h assumed, so the rate passes through.
    expect(swap.find((x) => x.kind === 'perpFunding')).toEqual({ kind: 'perpFunding', instId: 'WNCG-USDT-SWAP', funding8h: 0.00048105, timestampMs: 1640131200000 });
    // The push without a current rate is not an error.
    expect(swap.filter((x) => x.kind === 'ignored').length).toBeGreaterThanOrEqual(1);
    // trades, tickers, bbo-tbt, books-l2-tbt are channels we never subscribe: counted as unknown.
    expect(swap.filter((x) => x.kind === 'dropped').every((x) => x.kind === 'dropped' && x.reason === 'unknownChannel')).toBe(true);
  });

  it('funding on a 4 h interval is scaled to 8 h', () => {
    const m = parseOkxMessage(
      { arg: { channel: 'funding-rate', instId: 'BTC-USDT-SWAP' }, data: [{ instId: 'BTC-USDT-SWAP', instType: 'SWAP', fundingRate: '0.0001', fundingTime: '1701388800000', nextFundingTime: String(1701388800000 + 4 * 3_600_000), ts: '1701380000000' }] },
      noCtx,
    );
    expect(m).toEqual({ kind: 'perpFunding', instId: 'BTC-USDT-SWAP', funding8h: 0.0002, timestampMs: 1701380000000 });
  });

  it('events: subscribe ack, error, 64008 notice', () => {
    expect(parseOkxMessage({ event: 'subscribe', arg: { channel: 'opt-summary', instFamily: 'BTC-USD' }, connId: 'a' }, noCtx)).toEqual({ kind: 'subscribed', channel: 'opt-summary' });
    expect(parseOkxMessage({ event: 'error', code: '60012', msg: 'Invalid request' }, noCtx)).toEqual({ kind: 'error', code: 60012, message: 'Invalid request' });
    expect(parseOkxMessage({ event: 'notice', code: '64008', msg: 'upgrade' }, noCtx)).toEqual({ kind: 'notice', code: 64008, message: 'upgrade' });
  });
});

describe('OKX bad input is dropped with a reason, never thrown', () => {
  const row = { instId: 'BTC-USD-231229-40000-P', markVol: '0.46', fwdPx: '38000', ts: '1701388800085' };
  const sum = (r: Record<string, unknown>) => parseOkxMessage({ arg: { channel: 'opt-summary', instFamily: 'BTC-USD' }, data: [r] }, noCtx);
  it.each([
    ['iv 1e9', { ...row, markVol: '1e9' }],
    ['iv 0', { ...row, markVol: '0' }],
    ['NaN forward', { ...row, fwdPx: 'NaN' }],
    ['1e400 forward', { ...row, fwdPx: '1e400' }],
    ['empty', { ...row, markVol: '' }],
    ['seconds timestamp', { ...row, ts: '1701388800' }],
  ])('%s', (_label, r) => {
    const m = expectKind(sum(r), 'options');
    expect(m.updates).toEqual([]);
    expect(m.drops).toEqual(['badNumber']);
  });
  it('negative OI, strike 0 name, non-objects', () => {
    const oi = { arg: { channel: 'open-interest', instId: 'BTC-USD-231229-40000-P' }, data: [{ instId: 'BTC-USD-231229-40000-P', instType: 'OPTION', oi: '-5', oiCcy: '-0.5', ts: '1701388801195' }] };
    expect(parseOkxMessage(oi, noCtx)).toEqual({ kind: 'dropped', reason: 'badNumber' });
    expect(parseOkxOptionName('BTC-USD-231229-0-P')).toBeNull();
    expect(parseOkxOptionName('BTC-USD-231231-40000-P')?.expiryMs).toBe(Date.UTC(2023, 11, 31, 8));
    expect(parseOkxOptionName('BTC-USD-230231-40000-P')).toBeNull();
    for (const junk of [null, 42, 'x', [], { arg: {} }, { arg: { channel: 'books' }, data: 'x' }]) {
      expect(parseOkxMessage(junk, noCtx).kind).toBe('dropped');
    }
  });
});

describe('OKX books: checksum reproduced on the real 2022 capture', () => {
  it('every UNI-USD-SWAP snapshot/update checksum matches our book', () => {
    const lines = readFileSync(DIR + 'cryptofeed-sample_data-OKX.ws.1.0.txt', 'utf8').split('\n');
    const book = new LevelBook();
    let checked = 0;
    let mismatches = 0;
    for (const line of lines) {
      const i = line.indexOf(': {"arg":{"channel":"books","instId":"UNI-USD-SWAP"}');
      if (i < 0) continue;
      const m = parseOkxMessage(JSON.parse(line.slice(i + 2)), noCtx);
      if (m.kind !== 'book') throw new Error('expected book');
      if (m.action === 'snapshot') book.clear();
      for (const [p, s] of m.bids) book.apply('bid', p, s);
      for (const [p, s] of m.asks) book.apply('ask', p, s);
      if (m.checksum !== null) {
        checked++;
        if (okxBookChecksum(book.bids(), book.asks()) !== m.checksum) mismatches++;
      }
    }
    expect(checked).toBeGreaterThan(20);
    expect(mismatches).toBe(0);
  });

  it('depth within bands, in coin, only for bands the book reaches', () => {
    const book = new LevelBook();
    book.apply('bid', '100', '10');
    book.apply('bid', '99.6', '5'); // within 0.5 % of mid 100.05
    book.apply('bid', '98', '7'); // beyond 1 % and 2 %? 98 < 98.049 (2 % edge)
    book.apply('ask', '100.1', '2');
    book.apply('ask', '101', '3');
    book.apply('ask', '103', '4');
    const { mid, depth } = depthWithinBands(book.bids(), book.asks(), 0.01);
    expect(mid).toBeCloseTo(100.05, 12);
    expect(depth).toHaveLength(3);
    expect(depth[0].bandPct).toBe(0.5);
    expect(depth[0].bidCoin).toBeCloseTo(0.15, 12);
    expect(depth[0].askCoin).toBeCloseTo(0.02, 12);
    expect(depth[2].bidCoin).toBeCloseTo(0.15, 12);
    expect(depth[2].askCoin).toBeCloseTo(0.05, 12);
    book.apply('bid', '98', '0'); // the bid side now ends at 99.6: bands beyond 0.449 % are unknown
    expect(depthWithinBands(book.bids(), book.asks(), 0.01).depth).toEqual([]);
  });
});

describe('OKX books since 2026: checksum 0 and the REST snapshot', () => {
  const frame = (checksum: number) => ({ arg: { channel: 'books', instId: 'BTC-USDT-SWAP' }, action: 'update', data: [{ bids: [['100', '1', '0', '1']], asks: [], ts: '1782000000000', checksum, prevSeqId: 4, seqId: 5 }] });
  it('checksum 0 means no checksum; any other value is kept to be verified', () => {
    expect(parseOkxMessage(frame(0), noCtx)).toMatchObject({ kind: 'book', checksum: null, seqId: 5, prevSeqId: 4 });
    expect(parseOkxMessage(frame(-855196043), noCtx)).toMatchObject({ kind: 'book', checksum: -855196043 });
  });
  it('GET /api/v5/market/books: levels, ts and seqId (number or text); errors are named', () => {
    const body = { code: '0', msg: '', data: [{ asks: [['101', '2', '0', '1']], bids: [['100', '3', '0', '2']], ts: '1782000000000', seqId: 123 }] };
    expect(parseOkxBookSnapshot(body)).toEqual({ snapshot: { bids: [['100', '3']], asks: [['101', '2']], timestampMs: 1782000000000, seqId: 123 } });
    expect(parseOkxBookSnapshot({ ...body, data: [{ ...body.data[0], seqId: '124' }] })).toMatchObject({ snapshot: { seqId: 124 } });
    expect(parseOkxBookSnapshot({ ...body, data: [{ ...body.data[0], seqId: undefined }] })).toMatchObject({ snapshot: { seqId: null } });
    expect(parseOkxBookSnapshot({ code: '51001', msg: "Instrument ID doesn't exist", data: [] })).toEqual({ error: "okx error 51001: Instrument ID doesn't exist" });
    expect(parseOkxBookSnapshot({ ...body, data: [{ ...body.data[0], bids: [['x', '1']] }] })).toEqual({ error: 'books snapshot with bad numbers' });
    for (const junk of [null, 'x', {}, { code: '0', data: [] }]) expect('error' in parseOkxBookSnapshot(junk)).toBe(true);
  });
});
