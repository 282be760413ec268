import { describe, expect, it } from 'vitest';
import { emptyGexResult } from '../engine/fixtures.ts';
import { SELECTION_DEFAULTS, type ResultMessage } from '../worker/protocol.ts';
import { MINUTE_MS, appendSample, mergeSamples, netAt, pastGex, priorsAt, readSample, sampleOf, seriesKey, type MinuteSample } from './minutes.ts';

const T0 = Date.UTC(2026, 2, 6, 6, 0, 0);
const F = (a: number[]) => Float64Array.from(a);

function result(nowMs: number, net: number[] = [1, -2, 3], strikes: number[] = [90, 100, 110]): ResultMessage {
  return {
    type: 'result', seq: 1, computedAtMs: nowMs, newestFrameAtMs: null,
    selection: { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS },
    gex: emptyGexResult({
      spot: 100, nowMs, strikes: F(strikes), callGex: F(net.map((v) => Math.max(0, v))), putGex: F(net.map((v) => Math.min(0, v))), netGex: F(net),
      expiries: F([T0 + 86_400_000]), netGexByExpiry: F([2]), totalNetGex: 2, zeroGammaLevel: 95, callWall: 110, putWall: 100, regime: 'positive',
    }),
    perps: [], includedVenues: ['deribit'], excludedVenues: [], spotSource: '', expiries: [], expiredSelected: [], tape: null,
  };
}
const at = (minute: number, net?: number[]) => sampleOf('s', result(T0 + minute * MINUTE_MS + 1234, net))!;

describe('minute samples', () => {
  it('a series is source, venues (any order), currency, model and expiry selection', () => {
    const v = { source: 'sim', venues: ['okx', 'deribit'], currency: 'BTC', model: 'classic', expiries: [], includeExpiring: false, afterNextExpiry: false };
    expect(seriesKey(v)).toBe('sim|deribit+okx|BTC|classic|all');
    expect(seriesKey({ ...v, expiries: [3, 1], includeExpiring: true, afterNextExpiry: true })).toBe('sim|deribit+okx|BTC|classic|1,3|expiring|after');
  });

  it('a sample is of its minute, holds call and put (net is their sum), and shares equal strikes with the previous one', () => {
    const a = at(0);
    expect(a.t).toBe(T0);
    expect(a.nowMs).toBe(T0 + 1234);
    expect(netAt(a, 100)).toBe(-2);
    expect(netAt(a, 105)).toBeNull();
    const b = sampleOf('s', result(T0 + MINUTE_MS), a)!;
    expect(b.strikes).toBe(a.strikes);
    expect(sampleOf('s', result(T0 + MINUTE_MS, [1, 2], [90, 95]), a)!.strikes).not.toBe(a.strikes);
    expect(sampleOf('s', { ...result(T0), gex: emptyGexResult({ spot: 0, nowMs: T0 }) })).toBeNull();
  });

  it('one sample a minute, the first kept, 24 h at most, ordered; venue time going back starts over', () => {
    let list: MinuteSample[] = [];
    list = appendSample(list, at(0));
    const same = appendSample(list, at(0, [9, 9, 9]));
    expect(same).toBe(list);
    list = appendSample(list, at(2));
    list = appendSample(list, at(1));
    expect(list.map((s) => (s.t - T0) / MINUTE_MS)).toEqual([0, 1, 2]);
    list = appendSample(list, at(3), 2 * MINUTE_MS);
    expect(list.map((s) => (s.t - T0) / MINUTE_MS)).toEqual([2, 3]);
    expect(appendSample(list, at(0)).map((s) => s.t)).toEqual([T0]);
  });

  it('stored and new samples merge by minute, stored first', () => {
    const m = mergeSamples([at(0), at(1)], [at(1, [7, 7, 7]), at(2)]);
    expect(m.map((s) => (s.t - T0) / MINUTE_MS)).toEqual([0, 1, 2]);
    expect(netAt(m[1], 90)).toBe(1);
  });

  it('priors: the samples exactly 1, 5, 15 and 30 minutes before the minute of now, those that exist', () => {
    const list = [0, 15, 25, 29].map((m) => at(m));
    const p = priorsAt(list, T0 + 30 * MINUTE_MS + 59_000, [1, 5, 15, 30]);
    expect(p.map((x) => [x.minutes, (x.sample.t - T0) / MINUTE_MS])).toEqual([[1, 29], [5, 25], [15, 15], [30, 0]]);
    expect(priorsAt(list, T0 + 31 * MINUTE_MS, [1, 5])).toEqual([]);
  });

  it('a past minute as figures: strikes, levels and totals from the sample, the rest empty', () => {
    const g = pastGex(at(3), null);
    expect(Array.from(g.netGex)).toEqual([1, -2, 3]);
    expect(g.spot).toBe(100);
    expect(g.zeroGammaLevel).toBe(95);
    expect(g.profileSpots.length).toBe(0);
    expect(g.scenarios).toBeNull();
    expect(g.nowMs).toBe(T0 + 3 * MINUTE_MS + 1234);
  });

  it('reads back only well-formed samples of the series asked for', () => {
    const a = at(4);
    expect(readSample(a, 's')).toBe(a);
    for (const bad of [
      null, 'x', { ...a, series: 'other' }, { ...a, t: a.t + 1 }, { ...a, nowMs: a.t + MINUTE_MS }, { ...a, spot: -1 }, { ...a, regime: 'sideways' },
      { ...a, zeroGamma: 'x' }, { ...a, strikes: [90, 100, 110] }, { ...a, callGex: Float64Array.from([1, 2, 3]) }, { ...a, putGex: Float32Array.from([1]) },
      { ...a, strikes: F([90, 90, 110]) }, { ...a, netGexByExpiry: Float32Array.from([Infinity]) }, { ...a, expiries: F([]) },
    ]) {
      expect(readSample(bad, 's')).toBeNull();
    }
  });
});
