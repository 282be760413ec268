import { describe, expect, it } from 'vitest';
import { emptyGexResult } from '../engine/fixtures.ts';
import { SELECTION_DEFAULTS, type ResultMessage } from '../worker/protocol.ts';
import { AlertMachine, HOLD_MS, NO_ALERTS, alertText, flowToDepthAt1Pct, type AlertInput, type AlertRules } from './alerts.ts';

const T0 = Date.UTC(2026, 2, 6, 9, 0, 0);
const ALL: AlertRules = { regime: true, zeroGamma: true, callWall: true, putWall: true, flowMultiple: 2, sound: false };
const base: AlertInput = { nowMs: T0, stale: false, regime: 'positive', spot: 80_000, zeroGamma: 79_000, callWall: 90_000, putWall: 70_000, flowToDepth: 1 };

/** Feeds one input a second from `from` for `seconds`, returning the alerts with their second. */
function run(m: AlertMachine, from: number, seconds: number, at: (s: number) => Partial<AlertInput>) {
  const out: { s: number; kind: string; to: string; atMs: number; sinceMs: number }[] = [];
  for (let s = from; s < from + seconds; s++) {
    for (const a of m.feed({ ...base, nowMs: T0 + s * 1000, ...at(s) })) out.push({ s, kind: a.kind, to: a.to, atMs: a.atMs, sinceMs: a.sinceMs });
  }
  return out;
}

describe('alert machine', () => {
  it('the first settled state is the baseline; a flip fires once, when it has held 30 s of venue time', () => {
    const m = new AlertMachine({ ...NO_ALERTS, regime: true }, 'BTC');
    expect(run(m, 0, 40, () => ({}))).toEqual([]);
    // Negative from second 40 on: fires at 70, once.
    const fired = run(m, 40, 100, () => ({ regime: 'negative', totalNetGex: -1 }));
    expect(fired).toEqual([{ s: 70, kind: 'regime', to: 'negative', atMs: T0 + 70_000, sinceMs: T0 + 40_000 }]);
    expect(HOLD_MS).toBe(30_000);
  });

  it('no flapping: a state that does not hold 30 s fires nothing; the way back needs 30 s too', () => {
    const m = new AlertMachine({ ...NO_ALERTS, zeroGamma: true }, 'BTC');
    run(m, 0, 31, () => ({}));
    // Spot crossing back and forth every 20 s for five minutes: nothing.
    expect(run(m, 31, 300, (s) => ({ spot: Math.floor(s / 20) % 2 ? 78_000 : 80_000 }))).toEqual([]);
    const below = run(m, 331, 60, () => ({ spot: 78_000 }));
    expect(below.map((a) => [a.s, a.to])).toEqual([[361, 'below']]);
    // Back above for 29 s, then below again: the way back did not hold, no alert; then above for good.
    expect(run(m, 391, 29, () => ({ spot: 80_000 }))).toEqual([]);
    expect(run(m, 420, 10, () => ({ spot: 78_000 }))).toEqual([]);
    expect(run(m, 430, 40, () => ({ spot: 80_000 })).map((a) => [a.s, a.to])).toEqual([[460, 'above']]);
  });

  it('never on stale data: a stale result breaks the hold and fires nothing, the hold starts over when fresh', () => {
    const m = new AlertMachine({ ...NO_ALERTS, callWall: true }, 'BTC');
    run(m, 0, 31, () => ({}));
    // The wall moves while the feed is stale for 60 s: nothing.
    expect(run(m, 31, 60, () => ({ callWall: 95_000, stale: true }))).toEqual([]);
    // Fresh again: 30 s more of the new wall before it fires.
    expect(run(m, 91, 40, () => ({ callWall: 95_000 })).map((a) => [a.s, a.kind, a.to])).toEqual([[121, 'callWall', '95000']]);
  });

  it('walls move to another strike, each rule on its own; text names both strikes', () => {
    const m = new AlertMachine(ALL, 'BTC');
    run(m, 0, 31, () => ({}));
    const fired = run(m, 31, 50, (s) => ({ putWall: 65_000, callWall: s >= 41 ? 100_000 : 90_000 }));
    expect(fired.map((a) => [a.s, a.kind])).toEqual([[61, 'putWall'], [71, 'callWall']]);
    expect(alertText({ kind: 'putWall', from: '70000', to: '65000' })).toBe('Put wall moved 70,000 → 65,000');
  });

  it('hedge flow above its multiple of depth alerts from the start too; below re-arms it without an alert', () => {
    const m = new AlertMachine({ ...NO_ALERTS, flowMultiple: 2 }, 'BTC');
    expect(run(m, 0, 40, () => ({ flowToDepth: 2.5 })).map((a) => a.s)).toEqual([30]);
    expect(run(m, 40, 40, () => ({ flowToDepth: 1.5 }))).toEqual([]);
    expect(run(m, 80, 40, () => ({ flowToDepth: 3 })).map((a) => a.s)).toEqual([110]);
    // Rules changed: a new multiple starts over.
    m.setRules({ ...NO_ALERTS, flowMultiple: 4 });
    expect(run(m, 120, 40, () => ({ flowToDepth: 3 }))).toEqual([]);
  });

  it('venue time going back (a replay looped) forgets what was held', () => {
    const m = new AlertMachine({ ...NO_ALERTS, regime: true }, 'BTC');
    run(m, 100, 31, () => ({}));
    run(m, 131, 20, () => ({ regime: 'negative' }));
    expect(run(m, 0, 40, () => ({ regime: 'negative' }))).toEqual([]);
  });
});

describe('flow over depth at ±1 %', () => {
  it('takes the side dealers trade (buys take asks, sells take bids), summed over venues, the worse of up and down', () => {
    const r: ResultMessage = {
      type: 'result', seq: 1, computedAtMs: T0, newestFrameAtMs: null,
      selection: { source: 'sim', venues: ['deribit', 'okx'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS },
      gex: emptyGexResult({ spot: 100, nowMs: T0, moves: Float64Array.from([-0.02, -0.01, 0, 0.01]), hedgeFlowUnits: Float64Array.from([99, 30, 0, -10]) }),
      perps: [
        { venue: 'deribit', instrument: 'P', timestampMs: T0, markPrice: 100, indexPrice: 100, funding8h: null, openInterestCoin: null, bestBid: null, bestAsk: null, depth: [{ bandPct: 1, bidCoin: 4, askCoin: 10 }] },
        { venue: 'okx', instrument: 'P', timestampMs: T0, markPrice: 100, indexPrice: 100, funding8h: null, openInterestCoin: null, bestBid: null, bestAsk: null, depth: [{ bandPct: 0.5, bidCoin: 1, askCoin: 1 }, { bandPct: 1, bidCoin: 1, askCoin: 5 }] },
      ],
      includedVenues: ['deribit', 'okx'], excludedVenues: [], spotSource: '', expiries: [], expiredSelected: [], tape: null,
    };
    // -1 %: dealers buy 30 against asks 15 -> 2; +1 %: sell 10 against bids 5 -> 2... the larger: 2.
    expect(flowToDepthAt1Pct(r)).toBe(2);
    expect(flowToDepthAt1Pct({ ...r, perps: [] })).toBeNull();
  });
});
