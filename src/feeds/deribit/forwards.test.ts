import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { OptionInstrument } from '../../chain/model.ts';
import { ForwardTickers, forwardChannel, pickForwardInstruments } from './forwards.ts';
import { parseInstrumentsResult } from './rest.ts';
import { sampleDir } from '../../../test/samples.ts';

// The real BTC listing of 2021-07-22 22:42 UTC and that moment's index.
const LISTING = parseInstrumentsResult(JSON.parse(readFileSync(sampleDir('deribit') + 'rest-get_instruments-BTC-2021-07-22.json', 'utf8')).result, 'BTC').instruments;
const T0 = 1626993723632;
const SPOT = 32208.37;
const NEAREST_CALLS = [
  'BTC-23JUL21-32000-C', 'BTC-24JUL21-32000-C', 'BTC-30JUL21-32000-C', 'BTC-6AUG21-32000-C', 'BTC-13AUG21-32000-C',
  'BTC-27AUG21-32000-C', 'BTC-24SEP21-32000-C', 'BTC-31DEC21-32000-C', 'BTC-25MAR22-30000-C', 'BTC-24JUN22-30000-C',
];

const EXPIRY = Date.UTC(2024, 11, 27, 8);
const option = (strike: number, isCall: boolean, expiryMs = EXPIRY): OptionInstrument => ({
  venue: 'deribit', name: `BTC-X-${expiryMs}-${strike}-${isCall ? 'C' : 'P'}`, currency: 'BTC', strike, expiryMs, isCall, multiplier: 1,
});

describe('pickForwardInstruments', () => {
  it('on the real 2021 listing: per expiry the listed call nearest spot, all of them new', () => {
    const r = pickForwardInstruments(LISTING, SPOT, T0, new Map());
    expect(LISTING).toHaveLength(390);
    expect([...r.add].sort()).toEqual([...NEAREST_CALLS].sort());
    expect(r.remove).toEqual([]);
    expect([...r.picks.values()].sort()).toEqual([...NEAREST_CALLS].sort());
    for (const [expiry, name] of r.picks) expect(LISTING.find((i) => i.name === name)!.expiryMs).toBe(expiry);
    // Picked again at the same spot: nothing to (un)subscribe.
    const again = pickForwardInstruments(LISTING, SPOT, T0, r.picks);
    expect(again).toEqual({ picks: r.picks, add: [], remove: [] });
  });

  it('an expiry passed at venue time loses its pick and gets none; unknown venue time expires nothing', () => {
    const first = pickForwardInstruments(LISTING, SPOT, T0, new Map());
    const after23 = Date.UTC(2021, 6, 23, 8, 0, 1);
    const r = pickForwardInstruments(LISTING, SPOT, after23, first.picks);
    expect(r.remove).toEqual(['BTC-23JUL21-32000-C']);
    expect(r.add).toEqual([]);
    expect(r.picks.has(Date.UTC(2021, 6, 23, 8))).toBe(false);
    expect(pickForwardInstruments(LISTING, SPOT, null, new Map()).add).toHaveLength(NEAREST_CALLS.length);
  });

  it('takes calls only, the lower strike on a tie; a move of spot swaps the picks it changes', () => {
    const list = [option(95_000, true), option(100_000, false), option(105_000, true), option(100_000, true, EXPIRY + 86_400_000)];
    const r = pickForwardInstruments(list, 100_000, null, new Map());
    expect(r.picks.get(EXPIRY)).toBe(list[0].name); // 95 000 and 105 000 tie; the 100 000 is a put
    const moved = pickForwardInstruments(list, 104_000, null, r.picks);
    expect(moved.remove).toEqual([list[0].name]);
    expect(moved.add).toEqual([list[2].name]);
    expect(moved.picks.get(EXPIRY + 86_400_000)).toBe(list[3].name);
    expect(r.picks.get(EXPIRY)).toBe(list[0].name); // the picks passed in are not changed
  });
});

describe('ForwardTickers', () => {
  it('repicks when spot moved more than 2 % since the last pick, and forgets a pick by its channel', () => {
    const f = new ForwardTickers();
    expect(f.unpicked).toBe(true);
    expect(f.spotMoved(SPOT)).toBe(true);
    expect(f.repick(LISTING, SPOT, T0).add).toHaveLength(NEAREST_CALLS.length);
    expect(f.unpicked).toBe(false);
    expect(f.spotMoved(SPOT * 1.019)).toBe(false);
    expect(f.spotMoved(SPOT * 1.021)).toBe(true);
    expect(f.forget(forwardChannel('BTC-30JUL21-32000-C'))).toBe('BTC-30JUL21-32000-C');
    expect(f.forget(forwardChannel('BTC-30JUL21-32000-C'))).toBeNull();
    // The forgotten expiry is picked anew (the same call, if it is still listed).
    expect(f.repick(LISTING, SPOT, T0)).toEqual({ add: ['BTC-30JUL21-32000-C'], remove: [] });
  });
});
