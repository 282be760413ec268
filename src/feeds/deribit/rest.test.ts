import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  expiryLabel,
  parseAnyOptionName,
  parseBookSummaryResult,
  parseExpiryLabel,
  parseInstrumentsResult,
  parseOptionName,
  unwrapJsonRpc,
} from './rest.ts';
import { sampleDir } from '../../../test/samples.ts';

const DIR = sampleDir('deribit');
const load = (f: string): unknown => JSON.parse(readFileSync(DIR + f, 'utf8'));
const docs = load('docs-openapi-method-examples.json') as Record<string, { response: { response: { value: unknown } } }>;
const result = (frame: unknown) => {
  const r = unwrapJsonRpc(frame);
  if (!r.ok) throw new Error(r.message);
  return r.result;
};

describe('unwrapJsonRpc', () => {
  it('unwraps real responses and doc examples', () => {
    const r = unwrapJsonRpc(load('rest-get_instruments-BTC-2021-07-22.json'));
    expect(r.ok && Array.isArray(r.result) && r.result.length).toBe(398);
    const d = unwrapJsonRpc(docs['/public/get_book_summary_by_currency'].response.response.value);
    expect(d).toMatchObject({ ok: true, id: 9344 });
  });
  it('reports Deribit error frames, junk and JSON text', () => {
    expect(
      unwrapJsonRpc({ jsonrpc: '2.0', id: 7, error: { code: -32601, message: 'Method not found' }, usIn: 1, usOut: 2, usDiff: 1, testnet: false }),
    ).toEqual({ ok: false, code: -32601, message: 'Method not found' });
    expect(unwrapJsonRpc('{"jsonrpc":"2.0","id":3,"result":"ok"}')).toEqual({ ok: true, result: 'ok', id: 3 });
    expect(unwrapJsonRpc('{nope')).toMatchObject({ ok: false, code: null });
    expect(unwrapJsonRpc(null)).toMatchObject({ ok: false });
    expect(unwrapJsonRpc([1, 2])).toMatchObject({ ok: false });
    expect(unwrapJsonRpc({ jsonrpc: '2.0', id: 1 })).toMatchObject({ ok: false });
  });
});

describe('option names', () => {
  it('parses inverse names with 08:00 UTC expiry', () => {
    expect(parseOptionName('BTC-27DEC24-100000-C')).toEqual({ currency: 'BTC', expiryMs: Date.UTC(2024, 11, 27, 8), strike: 100000, isCall: true });
    expect(parseOptionName('ETH-5JUN20-250-P')).toEqual({ currency: 'ETH', expiryMs: Date.UTC(2020, 5, 5, 8), strike: 250, isCall: false });
  });
  it('parses linear USDC names (decimal d) but they belong to no inverse chain', () => {
    expect(parseAnyOptionName('MATIC_USDC-9MAR24-1d02-C')).toEqual({ underlying: 'MATIC_USDC', expiryMs: Date.UTC(2024, 2, 9, 8), strike: 1.02, isCall: true });
    expect(parseOptionName('MATIC_USDC-9MAR24-1d02-C')).toBeNull();
    expect(parseOptionName('SOL-10JUN22-28-P')).toBeNull();
  });
  it('rejects futures, perpetuals, combos and junk', () => {
    for (const n of ['BTC-PERPETUAL', 'BTC-27DEC24', 'BTC-FS-27DEC24_PERP', 'BTC-31FEB24-1000-C', 'BTC-27DEC24-0-C', 'BTC-27DEC24-1e5-C', 'BTC-27XYZ24-100-C', 'BTC-27DEC24-100-X', ''])
      expect(parseOptionName(n)).toBeNull();
  });
  it('expiry labels round-trip', () => {
    expect(parseExpiryLabel('27DEC24')).toBe(Date.UTC(2024, 11, 27, 8));
    expect(expiryLabel(Date.UTC(2020, 4, 22, 8))).toBe('22MAY20');
    expect(parseExpiryLabel('27dec24')).toBeNull();
  });
});

describe('parseInstrumentsResult on real get_instruments responses', () => {
  it('BTC 2021: 390 options, 8 futures dropped, contract_size as multiplier', () => {
    const r = parseInstrumentsResult(result(load('rest-get_instruments-BTC-2021-07-22.json')), 'BTC');
    expect(r.instruments.length).toBe(390);
    expect(r.dropped).toEqual({ notOption: 8 });
    const i = r.instruments.find((x) => x.name === 'BTC-24SEP21-40000-P')!;
    // creation_timestamp of get_instruments is the listing time (2020-11-23 11:04:18 UTC)
    expect(i).toEqual({ venue: 'deribit', name: 'BTC-24SEP21-40000-P', currency: 'BTC', strike: 40000, expiryMs: 1632470400000, isCall: false, multiplier: 1, listedMs: 1606129458000 });
  });
  it('ETH 2021: 418 options; the BTC list read as ETH matches nothing', () => {
    const eth = parseInstrumentsResult(result(load('rest-get_instruments-ETH-2021-07-22.json')), 'ETH');
    expect(eth.instruments.length).toBe(418);
    const wrong = parseInstrumentsResult(result(load('rest-get_instruments-BTC-2021-07-22.json')), 'ETH');
    expect(wrong.instruments.length).toBe(0);
    expect(wrong.dropped.currencyMismatch).toBe(390);
  });
  it('SOL 2022 (2022 field set) and doc examples', () => {
    const sol = parseInstrumentsResult(result(load('rest-get_instruments-SOL-2022-05-29.json')), 'BTC');
    expect(sol.dropped).toEqual({ currencyMismatch: 172, notOption: 5 });
    const d = parseInstrumentsResult(result(docs['/public/get_instruments'].response.response.value), 'BTC');
    expect(d.instruments.length).toBe(0);
    expect(d.dropped.notOption).toBeGreaterThan(0);
  });
  it('drops bad rows with reasons', () => {
    const good = { kind: 'option', instrument_name: 'BTC-27DEC24-100000-C', strike: 100000, expiration_timestamp: Date.UTC(2024, 11, 27, 8), contract_size: 1, option_type: 'call' };
    const r = parseInstrumentsResult(
      [
        good,
        { ...good, strike: 0 },
        { ...good, strike: 99999 },
        { ...good, expiration_timestamp: 5 },
        { ...good, contract_size: -1 },
        { ...good, option_type: 'put' },
        { ...good, instrument_name: 'BTC-27DEC24-100000' },
        { ...good, instrument_name: 'MATIC_USDC-9MAR24-1d02-C' },
        'junk',
      ],
      'BTC',
    );
    expect(r.instruments.length).toBe(1);
    expect(r.dropped).toEqual({ badStrike: 2, badExpiry: 1, badContractSize: 1, badOptionType: 1, badName: 1, currencyMismatch: 1, malformed: 1 });
    expect(parseInstrumentsResult({}, 'BTC').dropped).toEqual({ notArray: 1 });
  });
});

describe('parseBookSummaryResult', () => {
  interface Row {
    instrument_name: string;
    mark_iv: number;
    underlying_price: number;
    open_interest: number;
    estimated_delivery_price: number;
    timestamp: number;
  }
  // The real 2020-05-21 chain re-shaped as book-summary rows (same values, summary field names).
  const chain = (load('chain-BTC-2020-05-21.reconstructed.json') as { rows: Row[] }).rows;
  const summary = chain.map((r) => ({
    instrument_name: r.instrument_name,
    mark_iv: r.mark_iv,
    underlying_price: r.underlying_price,
    open_interest: r.open_interest,
    estimated_delivery_price: r.estimated_delivery_price,
    creation_timestamp: r.timestamp,
  }));

  it('reads the real chain values: IV percent -> decimal, forward, OI, index of the newest row', () => {
    const r = parseBookSummaryResult(summary);
    expect(r.lines.length).toBe(326);
    expect(r.dropped).toEqual({});
    const first = r.lines.find((l) => l.name === 'BTC-22MAY20-9250-P')!;
    expect(first).toMatchObject({ name: 'BTC-22MAY20-9250-P', timestampMs: 1590103193775, forward: 9096.11, openInterest: 418.9 });
    expect(first.markIv).toBeCloseTo(0.8505, 15);
    const newest = chain.reduce((a, b) => (b.timestamp > a.timestamp ? b : a));
    expect(r.newestTimestampMs).toBe(newest.timestamp);
    expect(r.indexPrice).toBe(newest.estimated_delivery_price);
  });
  it('drops futures rows of the doc example and bad rows with reasons', () => {
    const d = parseBookSummaryResult(result(docs['/public/get_book_summary_by_currency'].response.response.value));
    expect(d).toMatchObject({ lines: [], indexPrice: null, newestTimestampMs: null, dropped: { notOption: 2 } });
    const g = summary[0];
    const r = parseBookSummaryResult([
      g,
      { ...g, mark_iv: 0 },
      { ...g, mark_iv: 1e9 },
      { ...g, mark_iv: null },
      { ...g, underlying_price: -1 },
      { ...g, underlying_price: '9000' },
      { ...g, open_interest: -3 },
      { ...g, open_interest: Number('1e400') },
      { ...g, creation_timestamp: 12 },
      { ...g, estimated_delivery_price: 'expired', creation_timestamp: g.creation_timestamp + 1 },
      42,
    ]);
    expect(r.lines.length).toBe(2);
    expect(r.dropped).toEqual({ badMarkIv: 3, badForward: 2, badOpenInterest: 2, badTimestamp: 1, malformed: 1 });
    // the newest row has no numeric index: the index comes from the older valid row
    expect(r.indexPrice).toBe(g.estimated_delivery_price);
    expect(r.newestTimestampMs).toBe(g.creation_timestamp + 1);
  });
});
