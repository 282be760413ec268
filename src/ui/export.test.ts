import { describe, expect, it } from 'vitest';
import { emptyGexResult } from '../engine/fixtures.ts';
import { SELECTION_DEFAULTS, type ResultMessage } from '../worker/protocol.ts';
import { exportName, viewCsv } from './export.ts';

const F = (a: number[]) => Float64Array.from(a);
const T = Date.UTC(2026, 2, 6, 9, 0, 12, 345);

function result(): ResultMessage {
  return {
    type: 'result', seq: 3, computedAtMs: T, newestFrameAtMs: null,
    selection: { source: 'sim', venues: ['deribit', 'okx'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS },
    gex: emptyGexResult({
      spot: 80_000.5, nowMs: T, zeroGammaLevel: 79_123.25, callWall: 90_000, putWall: 70_000, largestAbsGammaStrike: 80_000, totalNetGex: 1.5e6, regime: 'positive',
      strikes: F([50_000, 70_000, 80_000, 90_000]), callGex: F([1, 0, 2.5e6, 3e6]), putGex: F([-1, -2e6, -0.1, 0]), netGex: F([0, -2e6, 2.5e6 - 0.1, 3e6]),
      profileSpots: F([64_000, 80_000, 96_000]), profileNetGex: F([-1e6, 1.5e6, 2e6]),
      moves: F([-0.01, 0, 0.01]), hedgeFlowUnits: F([12.5, 0, -10]), hedgeFlowUsd: F([990_000, 0, -808_000]),
      scenarios: { moves: [-0.01, 0.01], hours: [0, 8], volShifts: [0], units: F([1, 2, 3, 4]), usd: F([10, 20, 30, 40]) },
    }),
    perps: [{ venue: 'deribit', instrument: 'BTC-PERPETUAL', timestampMs: T, markPrice: 80_010, indexPrice: 80_000, funding8h: null, openInterestCoin: null, bestBid: null, bestAsk: null, depth: [{ bandPct: 1, bidCoin: 5, askCoin: 25 }] }],
    includedVenues: ['deribit', 'okx'], excludedVenues: [], spotSource: '', expiries: [], expiredSelected: [], tape: null,
  };
}

const sections = (csv: string) => new Map(csv.trim().split('\n\n').map((b) => [b.split('\n')[0], b.split('\n').slice(1)] as const));

describe('export', () => {
  it('names files with currency, venues, model and the venue time of the figures', () => {
    expect(exportName(result())).toBe('gexdesk-BTC-deribit+okx-classic-20260306T090012Z');
    expect(exportName(result(), 'by-strike')).toBe('gexdesk-BTC-deribit+okx-classic-20260306T090012Z-by-strike');
  });

  it('the CSV holds the rows the charts draw, numbers at full precision', () => {
    const s = sections(viewCsv(result(), { profileRange: 0.2, ladderVol: 0 }));
    expect(s.get('key levels')).toEqual(['figure,value', 'spot,80000.5', 'zero gamma,79123.25', 'call wall,90000', 'put wall,70000',
      'largest abs gamma strike,80000', 'net gex usd per 1%,1500000', 'regime,positive']);
    // Strikes within spot +-20 %: 50,000 is out, as on the chart.
    expect(s.get('by strike (spot +-20%)')).toEqual(['strike,call gex usd per 1%,put gex usd per 1%,net gex usd per 1%', '70000,0,-2000000,-2000000', '80000,2500000,-0.1,2499999.9', '90000,3000000,0,3000000']);
    expect(s.get('gamma profile')!.slice(1)).toEqual(['64000,-1000000', '80000,1500000', '96000,2000000']);
    // Flow over the depth on the side dealers trade: buying 12.5 against asks 25, selling 10 against bids 5 (no band at 0 %).
    expect(s.get('hedge flow')!.slice(1)).toEqual(['-0.01,12.5,990000,25,0.5', '0,0,0,,', '0.01,-10,-808000,5,2']);
    // The ladder at the view's vol shift, up moves first as on screen.
    expect(s.get('scenario ladder usd (vol shift 0 pts)')).toEqual(['move,+0 h,+8 h', '0.01,30,40', '-0.01,10,20']);
  });

  it('a flow result adds its positioning and the classic figure per strike beside the flow figure', () => {
    const r = result();
    r.selection.model = 'flow';
    r.gex = { ...r.gex, model: 'flow', classicNetGex: F([5, 6, 7, 8]), positioning: { windowStartMs: T - 7 * 86_400_000, trades: 1234, blockTrades: 5, seenWhole: 0.25, seenInPart: 0.5, assumed: 0.25 } };
    r.tape = { windowStartMs: T - 7 * 86_400_000, venues: [{ venue: 'deribit', coveredFromMs: T - 86_400_000 }, { venue: 'okx', coveredFromMs: null }] };
    const s = sections(viewCsv(r, { profileRange: 0.2, ladderVol: 0 }));
    expect(s.get('positioning (flow model: an estimate)')).toEqual([
      'figure,value', 'window start (venue time UTC),2026-02-27T09:00:12.345Z', 'deribit tape complete since (UTC),2026-03-05T09:00:12.345Z', 'okx tape complete since (UTC),',
      'trades counted,1234', 'block trades,5', 'share seen whole,0.25', 'share seen in part,0.5', 'share assumed,0.25',
    ]);
    expect(s.get('by strike (spot +-20%)')).toEqual(['strike,call gex usd per 1%,put gex usd per 1%,net gex usd per 1%,net gex if classic usd per 1%',
      '70000,0,-2000000,-2000000,6', '80000,2500000,-0.1,2499999.9,7', '90000,3000000,0,3000000,8']);
  });

  it('a past minute: what the history keeps, and says it is the past', () => {
    const csv = viewCsv(result(), { profileRange: 0.2, ladderVol: 0 }, true);
    expect(csv.split('\n')[0]).toBe('gexdesk,past minute,sim');
    expect([...sections(csv).keys()]).toEqual(['gexdesk,past minute,sim', 'key levels', 'by strike (spot +-20%)']);
  });
});
