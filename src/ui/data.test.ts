import { describe, expect, it } from 'vitest';
import type { GexResult, PerpQuote } from '../worker/protocol.ts';
import type { HistoryPoint } from '../state/history.ts';
import { emptyGexResult } from '../engine/fixtures.ts';
import { bandValueAt, distanceFromSpot, expiryRows, flowRows, heatColour, historyRows, perpBasis, profileRows, shareExpiringWithin, strikeRows, summedDepth, symmetricDomain } from './data.ts';

const F = (a: number[]) => Float64Array.from(a);
function g(): GexResult {
  return emptyGexResult({
    spot: 100_000, nowMs: 0, model: 'classic',
    strikes: F([70_000, 90_000, 100_000, 110_000, 130_000]), callGex: F([1, 2, 3, 4, 5]), putGex: F([-5, -4, -3, -2, -1]), netGex: F([-4, -2, 0, 2, 4]),
    expiries: F([]), netGexByExpiry: F([]), totalCallGex: 15, totalPutGex: -15, totalNetGex: 0,
    profileSpots: F([80_000, 100_000, 120_000]), profileNetGex: F([-1, 0, 1]), zeroGammaLevel: 100_000, zeroGammaCrossings: [100_000],
    moves: F([-0.02, -0.01, 0, 0.01, 0.02]), hedgeFlowUnits: F([-10, -5, 0, 4, 8]), hedgeFlowUsd: F([-980_000, -495_000, 0, 404_000, 816_000]),
    hedgeFlowUnitsGammaApprox: F([0, 0, 0, 0, 0]), callWall: 130_000, putWall: 70_000, largestAbsGammaStrike: 70_000, regime: 'flat', includedLines: 10,
  });
}
const perp: PerpQuote = {
  venue: 'deribit', instrument: 'BTC-PERPETUAL', timestampMs: 0, markPrice: 100_100, indexPrice: 100_000, funding8h: 0.0001,
  openInterestCoin: 1000, bestBid: 100_090, bestAsk: 100_110,
  depth: [{ bandPct: 0.5, bidCoin: 10, askCoin: 12 }, { bandPct: 1, bidCoin: 20, askCoin: 25 }, { bandPct: 2, bidCoin: 40, askCoin: 50 }],
};

describe('chart rows', () => {
  it('strike window follows spot', () => {
    expect(strikeRows(g(), 0.2).map((r) => r.strike)).toEqual([90_000, 100_000, 110_000]);
    expect(strikeRows(g(), 0.3)[0]).toEqual({ strike: 70_000, call: 1, put: -5, net: -4, classicNet: null });
  });
  it('a flow result carries the classic net per strike as the ghost', () => {
    const flow = { ...g(), model: 'flow' as const, classicNetGex: Float64Array.from(g().strikes, (_, i) => 10 * i) };
    const rows = strikeRows(flow, 0.3);
    expect(rows.map((r) => r.classicNet)).toEqual(rows.map((r) => 10 * Array.from(flow.strikes).indexOf(r.strike)));
  });
  it('profile rows', () => {
    expect(profileRows(g())).toEqual([{ price: 80_000, gex: -1 }, { price: 100_000, gex: 0 }, { price: 120_000, gex: 1 }]);
    const big = { ...g(), profileSpots: Float64Array.from({ length: 401 }, (_, i) => i), profileNetGex: Float64Array.from({ length: 401 }, (_, i) => -i) };
    const thin = profileRows(big);
    expect(thin).toHaveLength(201);
    expect(thin[0]).toEqual({ price: 0, gex: -0 });
    expect(thin[200]).toEqual({ price: 400, gex: -400 });
    expect(profileRows(big, 150).at(-1)).toEqual({ price: 400, gex: -400 });
  });
  it('flow against depth on the side dealers trade', () => {
    const rows = flowRows(g(), perp.depth);
    expect(rows.map((r) => r.label)).toEqual(['-2%', '-1%', '0%', '+1%', '+2%']);
    expect(rows[0]).toMatchObject({ units: -10, depthCoin: 40, ratio: 0.25 });
    expect(rows[0].depthUsd).toBeCloseTo(-40 * 98_000, 6);
    expect(rows[4]).toMatchObject({ units: 8, depthCoin: 50, ratio: 0.16 });
    expect(flowRows(g(), [])[4]).toMatchObject({ depthCoin: null, ratio: null, depthUsd: null });
  });
  it('perp depth sums band by band across venues and names venues whose book does not reach', () => {
    const other = { ...perp, venue: 'okx' as const, depth: [{ bandPct: 1, bidCoin: 5, askCoin: 7 }] };
    const thin = { ...perp, venue: 'binance' as const, depth: [] };
    const s = summedDepth([perp, other, thin]);
    const one = perp.depth.find((b) => b.bandPct === 1)!;
    expect(s.bands.find((b) => b.bandPct === 1)).toEqual({ bandPct: 1, bidCoin: one.bidCoin + 5, askCoin: one.askCoin + 7 });
    expect(s.venues).toEqual([perp.venue, 'okx']);
    expect(s.missing).toEqual(['binance', 'okx (some bands)']);
  });
  it('basis, distance, domain', () => {
    expect(perpBasis(perp)).toBeCloseTo(0.001, 12);
    expect(perpBasis(undefined)).toBeNull();
    expect(distanceFromSpot(95_000, 100_000)).toBeCloseTo(-0.05, 12);
    expect(distanceFromSpot(null, 100_000)).toBeNull();
    expect(symmetricDomain([-2, 1, NaN])).toEqual([-2.16, 2.16]);
    expect(symmetricDomain([])).toEqual([-1, 1]);
  });
});

describe('nice axes', () => {
  it('round steps and ticks', async () => {
    const { niceStep, niceTicks, niceSymmetric } = await import('./data.ts');
    expect(niceStep(38_800, 10)).toBe(5000);
    expect(niceStep(2000, 8)).toBe(250);
    expect(niceTicks(78_021, 117_031, 8)).toEqual([80_000, 85_000, 90_000, 95_000, 100_000, 105_000, 110_000, 115_000]);
    expect(niceSymmetric([11.2e6, -3e6])).toEqual({ domain: [-15e6, 15e6], ticks: [-15e6, -7.5e6, 0, 7.5e6, 15e6] });
    expect(niceSymmetric([0.39e6])).toEqual({ domain: [-0.4e6, 0.4e6], ticks: [-0.4e6, -0.2e6, 0, 0.2e6, 0.4e6] });
  });
});

describe('historyRows', () => {
  // A full 6 h ring at one point per 10 s, starting off a minute boundary.
  const t0 = Date.UTC(2026, 2, 6, 6, 0, 30);
  const ring = (n: number): HistoryPoint[] => Array.from({ length: n }, (_, i) => ({ t: t0 + i * 10_000, spot: 100_000 + i, zeroGamma: i % 50 === 0 ? null : 99_000 }));

  it('draws a short series as it is', () => {
    const h = ring(400);
    expect(historyRows(h)).toBe(h);
  });

  it('thins the 6 h ring to one point per minute: first and last kept, each row an original point, no minute skipped', () => {
    const h = ring(2161);
    const rows = historyRows(h);
    expect(rows.length).toBeLessThanOrEqual(400);
    expect(rows.length).toBeGreaterThan(355);
    expect(rows[0]).toBe(h[0]);
    expect(rows.at(-1)).toBe(h.at(-1));
    for (let i = 1; i < rows.length; i++) {
      expect(h).toContain(rows[i]);
      expect(rows[i].t - rows[i - 1].t).toBeGreaterThan(0);
      expect(rows[i].t - rows[i - 1].t).toBeLessThanOrEqual(60_000);
    }
  });

  it('keeps the drawn points in place as the ring slides (oldest out, newest in): only the ends move', () => {
    const h = ring(2200);
    for (let k = 1; k <= 12; k++) {
      const before = historyRows(h.slice(k - 1, k + 2160));
      const after = historyRows(h.slice(k, k + 2161));
      const lo = h[k].t + 60_000;
      const hi = h[k + 2159].t - 60_000;
      const inner = (rows: readonly HistoryPoint[]) => rows.filter((p) => p.t >= lo && p.t < hi);
      expect(inner(after).length).toBeGreaterThan(350);
      expect(inner(after)).toEqual(inner(before));
    }
  });
});

describe('by expiry', () => {
  const T = Date.UTC(2026, 2, 6, 9);
  const H = 3_600_000;
  const gx = () => emptyGexResult({ nowMs: T, expiries: F([T + 23 * H, T + 47 * H, T + 200 * H]), netGexByExpiry: F([-3, 1, 6]) });
  it('every listed expiry, with its net where it is in the figures', () => {
    const rows = expiryRows(gx(), [{ expiryMs: T + 23 * H, label: 'A' }, { expiryMs: T + 30 * H, label: 'B' }]);
    expect(rows.map((r) => [r.label, r.net])).toEqual([['A', -3], ['B', null], ['8MAR26', 1], ['14MAR26', 6]]);
  });
  it('the share of GEX expiring within 24 h is their size over the size of all', () => {
    expect(shareExpiringWithin(gx(), 24 * H)).toEqual({ share: 0.3, expiries: 1 });
    expect(shareExpiringWithin(emptyGexResult(), 24 * H)).toBeNull();
  });
});

describe('heatmap cells', () => {
  it('a price falls in the band of the strike nearest it, bands reaching halfway to the neighbours', () => {
    const k = [100, 110, 130];
    const v = [1, 2, 3];
    expect([95, 100, 104.9, 105.1, 119.9, 120.1, 130, 140, 141, 94].map((p) => bandValueAt(k, v, p))).toEqual([1, 1, 1, 2, 2, 3, 3, 3, NaN, NaN]);
    expect(bandValueAt([], [], 100)).toBeNaN();
  });
  it('colour: green long, red short, stronger with size, nothing for zero', () => {
    expect(heatColour(0, 10)[3]).toBe(0);
    expect(heatColour(10, 10)).toEqual([63, 185, 80, 255]);
    expect(heatColour(-10, 10).slice(0, 3)).toEqual([255, 107, 94]);
    expect(heatColour(1, 10)[3]).toBeLessThan(heatColour(5, 10)[3]);
  });
});
