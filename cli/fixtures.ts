import { mulberry32 } from '../src/shared/prng.ts';

/**
 * Test fixtures for the CLI (not shipped): a generated Deribit-format chain saved as the venue's own
 * JSON-RPC frames.
 */
/*
 * A Deribit-format BTC chain generated here: 6 expiries x 90 strikes x call/put = 1,080 lines, saved
 * as the JSON-RPC frames of public/get_instruments and public/get_book_summary_by_currency, with bad
 * lines mixed in. Expected numbers are computed independently from the generator's own values with
 * the Black-76 functions (checked against published examples in src/engine/black76.test.ts).
 */
export const NOW = Date.UTC(2024, 11, 20, 9); // 20DEC24 09:00 UTC
export const SPOT = 100_000;
export const EXPIRIES = ['20DEC24', '21DEC24', '27DEC24', '31JAN25', '28MAR25', '27JUN25'];
export const EXP_MS: Record<string, number> = {
  '20DEC24': Date.UTC(2024, 11, 20, 8), // expired an hour ago: its 180 lines count as 'expired'
  '21DEC24': Date.UTC(2024, 11, 21, 8),
  '27DEC24': Date.UTC(2024, 11, 27, 8),
  '31JAN25': Date.UTC(2025, 0, 31, 8),
  '28MAR25': Date.UTC(2025, 2, 28, 8),
  '27JUN25': Date.UTC(2025, 5, 27, 8),
};

export interface Gen {
  name: string;
  strike: number;
  expiryMs: number;
  isCall: boolean;
  iv: number; // decimal
  forward: number;
  oi: number;
  ts: number;
  valid: boolean; // enters the sums
  listedMs: number;
}

export const rng = mulberry32;

export function generate() {
  const rnd = rng(20241220);
  const lines: Gen[] = [];
  const instruments: unknown[] = [];
  const summary: unknown[] = [];
  EXPIRIES.forEach((label, e) => {
    const forward = SPOT * (1 + 0.004 * e);
    for (let k = 0; k < 90; k++) {
      const strike = 56_000 + 1_000 * k;
      for (const isCall of [true, false]) {
        const m = Math.log(strike / forward);
        const iv = Math.round((0.5 + 0.6 * m * m - 0.15 * m + 0.02 * rnd()) * 10000) / 10000;
        const name = `BTC-${label}-${strike}-${isCall ? 'C' : 'P'}`;
        lines.push({
          name,
          strike,
          expiryMs: EXP_MS[label],
          isCall,
          iv,
          forward,
          oi: Math.round(3000 * rnd()) / 10,
          ts: NOW - Math.floor(5000 * rnd()) - 1,
          valid: EXP_MS[label] > NOW,
          listedMs: 0,
        });
      }
    }
  });
  lines[lines.length - 1].ts = NOW; // the newest row defines the default valuation time

  const bad = { ivZero: 0, oiNegative: 0, noSummary: 0 };
  lines.forEach((l, i) => {
    // listed 30 days ago, every fifth line 2 days ago (inside a 7-day trade window)
    l.listedMs = NOW - 86_400_000 * (i % 5 === 0 ? 2 : 30);
    instruments.push({
      tick_size: 0.0005,
      strike: l.strike,
      settlement_period: 'week',
      quote_currency: 'BTC',
      option_type: l.isCall ? 'call' : 'put',
      min_trade_amount: 0.1,
      kind: 'option',
      is_active: true,
      instrument_name: l.name,
      expiration_timestamp: l.expiryMs,
      creation_timestamp: l.listedMs,
      contract_size: 1.0,
      base_currency: 'BTC',
    });
    const row: Record<string, unknown> = {
      volume_usd: 0,
      volume: 0,
      quote_currency: 'BTC',
      open_interest: l.oi,
      mid_price: null,
      mark_price: 0.01,
      mark_iv: Math.round(l.iv * 100 * 100) / 100,
      instrument_name: l.name,
      estimated_delivery_price: SPOT,
      underlying_price: l.forward,
      underlying_index: 'SYN.BTC',
      interest_rate: 0,
      creation_timestamp: l.ts,
      base_currency: 'BTC',
    };
    l.iv = (row.mark_iv as number) / 100;
    if (l.valid && i % 97 === 5 && bad.ivZero < 10) {
      row.mark_iv = 0;
      bad.ivZero++;
      l.valid = false;
    } else if (l.valid && i % 89 === 7 && bad.oiNegative < 5) {
      row.open_interest = -1;
      bad.oiNegative++;
      l.valid = false;
    } else if (l.valid && i % 101 === 11 && bad.noSummary < 7) {
      bad.noSummary++;
      l.valid = false;
      return; // listed, but no summary row
    }
    summary.push(row);
  });
  // rows for instruments that are not listed, futures, junk; an instrument with a bad contract size
  for (const s of [999_000, 998_000, 997_000]) summary.push({ ...(summary[400] as object), instrument_name: `BTC-27DEC24-${s}-C` });
  summary.push({ instrument_name: 'BTC-PERPETUAL', mark_price: SPOT, open_interest: 1e9, estimated_delivery_price: SPOT, creation_timestamp: NOW });
  summary.push({ instrument_name: 'BTC-27DEC24', mark_price: SPOT, open_interest: 1e6, estimated_delivery_price: SPOT, creation_timestamp: NOW });
  summary.push('junk');
  instruments.push({ kind: 'future', instrument_name: 'BTC-PERPETUAL', contract_size: 10, expiration_timestamp: 32503708800000 });
  instruments.push({ kind: 'future', instrument_name: 'BTC-27DEC24', contract_size: 10, expiration_timestamp: EXP_MS['27DEC24'] });
  instruments.push({ ...(instruments[400] as object), instrument_name: 'BTC-27DEC24-996000-C', strike: 996000, contract_size: 0 });
  summary.push({ ...(summary[300] as object), instrument_name: 'BTC-27DEC24-996000-C' });
  return { lines, instruments, summary, bad };
}

export const frame = (id: number, result: unknown) => JSON.stringify({ jsonrpc: '2.0', id, result, usIn: 1, usOut: 2, usDiff: 1, testnet: false });

