import { describe, expect, it } from 'vitest';
import { SELECTION_DEFAULTS, type ResultMessage } from '../worker/protocol.ts';
import { decodeSavedFigures, encodeSavedFigures } from './saved-figures.ts';
import { emptyGexResult } from '../engine/fixtures.ts';

const F = (a: number[]) => Float64Array.from(a);
function result(): ResultMessage {
  return {
    type: 'result', seq: 7, computedAtMs: 1_700_000_000_000, newestFrameAtMs: null,
    selection: { source: 'live', venues: ['deribit', 'okx'], currency: 'BTC', expiries: [1_735_286_400_000], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS },
    gex: emptyGexResult({
      spot: 97_123.45, nowMs: 1_700_000_000_000, model: 'classic', deltaExposure: F([1, -2]), vannaExposure: F([0.5, NaN]), charmExposure: F([0, 3]),
      scenarios: { moves: [-0.01, 0.01], hours: [0], volShifts: [0, 0.01], units: F([1, 2, 3, 4]), usd: F([5, 6, 7, 8]) },
      expiring: { lines: 2, included: false, grossGammaShare: 0.25, pinStrike: 95_000 },
      strikes: F([90_000, 100_000]), callGex: F([1e6, 2e6]), putGex: F([-3e6, NaN]), netGex: F([-2e6, 2e6]),
      expiries: F([1_735_286_400_000]), netGexByExpiry: F([0]), netGexByStrikeExpiry: F([-2e6, 2e6]), totalCallGex: 3e6, totalPutGex: -3e6, totalNetGex: 0,
      profileSpots: F([80_000, 100_000, 120_000]), profileNetGex: F([-1, 0, 1]), zeroGammaLevel: 98_000.5, zeroGammaCrossings: [98_000.5, 110_000],
      moves: F([-0.01, 0, 0.01]), hedgeFlowUnits: F([-5, 0, 4]), hedgeFlowUsd: F([-480_000, 0, 390_000]), hedgeFlowUnitsGammaApprox: F([-5, 0, 5]),
      callWall: 100_000, putWall: null, largestAbsGammaStrike: 90_000, regime: 'negative', includedLines: 4,
      excluded: { expired: 0, ivMissing: 1, ivNonPositive: 0, ivAbsurd: 0, oiMissing: 0, oiNegative: 0, strikeInvalid: 0, forwardInvalid: 0, multiplierInvalid: 0 },
    }),
    perps: [{
      venue: 'deribit', instrument: 'BTC-PERPETUAL', timestampMs: 1, markPrice: 97_150, indexPrice: 97_120, funding8h: 0.0001,
      openInterestCoin: null, bestBid: 97_149, bestAsk: 97_151, depth: [{ bandPct: 0.5, bidCoin: 10, askCoin: 12 }],
    }],
    includedVenues: ['deribit'], excludedVenues: [{ venue: 'okx', reason: 'stale' }], spotSource: 'deribit index',
    expiries: [{ expiryMs: 1_735_286_400_000, label: '27DEC24', lines: 4 }], expiredSelected: [], tape: null,
  };
}

describe('saved figures', () => {
  it('come back as they were, columns as Float64Array (NaN kept)', () => {
    const r = result();
    const back = decodeSavedFigures(encodeSavedFigures(r, 123));
    expect(back?.receivedAtMs).toBe(123);
    expect(back?.result).toEqual(r);
    expect(back?.result.gex.putGex).toBeInstanceOf(Float64Array);
    expect(Number.isNaN(back?.result.gex.putGex[1])).toBe(true);
  });

  it('a flow result comes back with its classic ghost and its trade window', () => {
    const r = result();
    r.selection.model = 'flow';
    r.gex.model = 'flow';
    r.gex.classicNetGex = F([-1e6, 3e6]);
    r.gex.positioning = { windowStartMs: 1_699_395_200_000, trades: 120, blockTrades: 3, seenWhole: 0.25, seenInPart: 0.5, assumed: 0.25 };
    r.tape = { windowStartMs: 1_699_395_200_000, venues: [{ venue: 'deribit', coveredFromMs: 1_699_500_000_000 }] };
    const back = decodeSavedFigures(encodeSavedFigures(r, 1))!.result;
    expect(back).toEqual(r);
    expect(back.gex.classicNetGex).toBeInstanceOf(Float64Array);
  });

  it('anything malformed or of another version is ignored, never thrown', () => {
    const good = JSON.parse(encodeSavedFigures(result(), 1)) as Record<string, unknown>;
    const variant = (edit: (o: { v: number; receivedAtMs: unknown; result: Record<string, unknown> & { gex: Record<string, unknown>; selection: Record<string, unknown> } }) => void) => {
      const o = structuredClone(good) as Parameters<typeof edit>[0];
      edit(o);
      return JSON.stringify(o);
    };
    const bad = [
      null, '', '{', 'null', '[]', '"x"', 'x'.repeat(1_000_001),
      variant((o) => { o.v = 2; }),
      variant((o) => { o.receivedAtMs = 'soon'; }),
      variant((o) => { delete o.result.gex.hedgeFlowUsd; }),
      variant((o) => { o.result.gex.callGex = [1]; }),
      variant((o) => { o.result.gex.strikes = [1, 'x']; }),
      variant((o) => { o.result.gex.spot = -5; }),
      variant((o) => { o.result.gex.regime = 'sideways'; }),
      variant((o) => { o.result.gex.zeroGammaCrossings = null; }),
      variant((o) => { o.result.selection.venues = ['ftx']; }),
      variant((o) => { o.result.selection.currency = '__proto__'; }),
      variant((o) => { o.result.perps = [{ venue: 'deribit' }]; }),
      variant((o) => { o.result.expiries = [{ expiryMs: 1 }]; }),
      variant((o) => { o.result.type = 'health'; }),
      variant((o) => { o.result.gex.classicNetGex = [1]; }),
      variant((o) => { o.result.tape = { windowStartMs: 'x', venues: [] }; }),
      variant((o) => { o.result.tape = { windowStartMs: 1, venues: [{ venue: 'ftx', coveredFromMs: null }] }; }),
    ];
    for (const raw of bad) expect(decodeSavedFigures(raw), String(raw).slice(0, 80)).toBeNull();
  });
});
