import { describe, expect, it } from 'vitest';
import { ChainStore } from './store.ts';
import type { OptionInstrument } from './model.ts';

const E1 = Date.UTC(2024, 11, 27, 8);
const E2 = Date.UTC(2025, 2, 28, 8);
const ins = (name: string, strike: number, expiryMs: number, isCall: boolean): OptionInstrument => ({
  venue: 'deribit',
  name,
  currency: 'BTC',
  strike,
  expiryMs,
  isCall,
  multiplier: 1,
});
const LIST = [
  ins('BTC-27DEC24-90000-C', 90000, E1, true),
  ins('BTC-27DEC24-90000-P', 90000, E1, false),
  ins('BTC-27DEC24-100000-C', 100000, E1, true),
  ins('BTC-28MAR25-100000-C', 100000, E2, true),
];

/** Check that every name maps to the line holding its instrument's static fields. */
function consistent(s: ChainStore) {
  const c = s.columns();
  expect(c.length).toBe(s.size);
  for (let i = 0; i < s.size; i++) {
    // find the instrument at line i via the name map
    let found = 0;
    for (const l of LIST.concat(extra)) {
      if (s.indexOf(l.name) === i) {
        found++;
        expect(c.strike[i]).toBe(l.strike);
        expect(c.expiryMs[i]).toBe(l.expiryMs);
        expect(c.isCall[i]).toBe(l.isCall ? 1 : 0);
        expect(s.instrument(l.name)).toBe(l);
      }
    }
    expect(found).toBe(1);
  }
}
const extra = Array.from({ length: 300 }, (_, k) => ins(`BTC-28MAR25-${1000 * (k + 1)}-P`, 1000 * (k + 1), E2, false));

describe('ChainStore', () => {
  it('adds instruments with unknown market data, grows capacity, lists expiries', () => {
    const s = new ChainStore('deribit', 'BTC', 2);
    expect(s.upsertInstruments(LIST, true)).toEqual({ added: 4, removed: 0 });
    expect(s.upsertInstruments(extra, false)).toEqual({ added: 300, removed: 0 });
    expect(s.size).toBe(304);
    const c = s.columns();
    expect(Number.isNaN(c.markIv[0])).toBe(true);
    expect(Number.isNaN(c.openInterest[0])).toBe(true);
    expect(Number.isNaN(c.forward[0])).toBe(true);
    expect(s.expiries()).toEqual([
      { expiryMs: E1, lines: 3 },
      { expiryMs: E2, lines: 301 },
    ]);
    consistent(s);
    // other venue / currency is ignored
    expect(s.upsertInstruments([{ ...LIST[0], name: 'ETH-X', currency: 'ETH' }], false)).toEqual({ added: 0, removed: 0 });
  });

  it('applies updates per field group and ignores out-of-order ones', () => {
    const s = new ChainStore('deribit', 'BTC');
    s.upsertInstruments(LIST, true);
    const n = 'BTC-27DEC24-90000-C';
    expect(s.applyOptions([{ name: n, timestampMs: 1000, markIv: 0.5, forward: 95000, openInterest: 10 }])).toEqual({ applied: 1, stale: 0, unknown: 0 });
    // older IV is ignored; newer OI in the same frame family is taken
    expect(s.applyOptions([{ name: n, timestampMs: 900, markIv: 0.9 }])).toEqual({ applied: 0, stale: 1, unknown: 0 });
    expect(s.applyOptions([{ name: n, timestampMs: 1100, openInterest: 12 }])).toEqual({ applied: 1, stale: 0, unknown: 0 });
    // IV group is still at 1000, so an IV at 1050 is accepted even though OI is at 1100
    expect(s.applyOptions([{ name: n, timestampMs: 1050, markIv: 0.55, openInterest: 1 }])).toEqual({ applied: 1, stale: 0, unknown: 0 });
    const i = s.indexOf(n)!;
    const c = s.columns();
    expect(c.markIv[i]).toBe(0.55);
    expect(c.openInterest[i]).toBe(12);
    expect(c.forward[i]).toBe(95000);
    expect(s.newestTimestampMs).toBe(1100);
    expect(s.applyOptions([{ name: 'BTC-NOPE', timestampMs: 2000, markIv: 0.1 }])).toEqual({ applied: 0, stale: 0, unknown: 1 });
    // non-finite values do not crash and are not written
    s.applyOptions([{ name: n, timestampMs: 3000, markIv: NaN, openInterest: Infinity, forward: -Infinity }]);
    expect(s.columns().markIv[i]).toBe(0.55);
    expect(s.columns().openInterest[i]).toBe(12);
  });

  it('applies per-expiry forwards when newer, and seeds lines listed later', () => {
    const s = new ChainStore('deribit', 'BTC');
    s.upsertInstruments(LIST, true);
    s.applyOptions([{ name: 'BTC-27DEC24-90000-P', timestampMs: 5000, forward: 1 }]);
    expect(s.applyForwards([{ expiryMs: E1, forward: 96000, timestampMs: 4000 }])).toBe(2); // the put's 5000 wins
    const c = s.columns();
    expect(c.forward[s.indexOf('BTC-27DEC24-90000-C')!]).toBe(96000);
    expect(c.forward[s.indexOf('BTC-27DEC24-90000-P')!]).toBe(1);
    expect(Number.isNaN(c.forward[s.indexOf('BTC-28MAR25-100000-C')!])).toBe(true);
    s.upsertInstruments([ins('BTC-27DEC24-110000-C', 110000, E1, true)], false);
    expect(s.columns().forward[s.indexOf('BTC-27DEC24-110000-C')!]).toBe(96000);
  });

  it('removes lines absent from a complete listing and expired lines, keeping the name map right', () => {
    const s = new ChainStore('deribit', 'BTC', 4);
    s.upsertInstruments(LIST, true);
    s.upsertInstruments(extra, false);
    extra.forEach((l, k) => s.applyOptions([{ name: l.name, timestampMs: 1, markIv: k / 1000, openInterest: k }]));
    // complete listing without the first call and without every third extra line
    const keep = LIST.slice(1).concat(extra.filter((_, k) => k % 3 !== 0));
    const r = s.upsertInstruments(keep, true);
    expect(r).toEqual({ added: 0, removed: 1 + 100 });
    expect(s.instrument('BTC-27DEC24-90000-C')).toBeUndefined();
    consistent(s);
    // market data travelled with the swapped lines
    extra.forEach((l, k) => {
      if (k % 3 === 0) return;
      const i = s.indexOf(l.name)!;
      expect(s.columns().openInterest[i]).toBe(k);
      expect(s.columns().markIv[i]).toBe(k / 1000);
    });
    expect(s.removeExpired(E1 - 1)).toBe(0);
    expect(s.removeExpired(E1)).toBe(2);
    expect(s.expiries()).toEqual([{ expiryMs: E2, lines: 201 }]);
    consistent(s);
    expect(s.remove('BTC-28MAR25-100000-C')).toBe(true);
    expect(s.remove('BTC-28MAR25-100000-C')).toBe(false);
    consistent(s);
    expect(s.size).toBe(200);
  });
});

describe('ChainStore forwards after listing changes', () => {
  it('a forward reaches exactly the lines of its expiry after adds, swap-removes and expiry removal', () => {
    const s = new ChainStore('deribit', 'BTC');
    s.upsertInstruments(LIST, true);
    s.applyForwards([{ expiryMs: E1, forward: 100, timestampMs: 1 }]);
    // remove the first line (swap-remove moves the last line into its slot), then list a new E2 line
    s.remove(LIST[0].name);
    s.upsertInstruments([ins('BTC-28MAR25-777-C', 777, E2, true)], false);
    s.applyForwards([{ expiryMs: E2, forward: 200, timestampMs: 2 }, { expiryMs: E1, forward: 101, timestampMs: 2 }]);
    const c = s.columns();
    for (let i = 0; i < c.length; i++) expect(c.forward[i]).toBe(c.expiryMs[i] === E2 ? 200 : 101);
    s.removeExpired(E1);
    s.applyForwards([{ expiryMs: E2, forward: 201, timestampMs: 3 }]);
    const d = s.columns();
    expect(d.length).toBeGreaterThan(0);
    for (let i = 0; i < d.length; i++) expect(d.forward[i]).toBe(201);
  });
});
