import { describe, expect, it } from 'vitest';
import { SimClock } from '../../clock.ts';
import { FaultState } from '../../faults/state.ts';
import { MarketSim } from '../../sim/market.ts';
import type { DeribitHub } from './hub.ts';
import { SimSource } from './sim-source.ts';

/** A session that only records what the source announces on instrument.state. */
function recordingHub(): { hub: DeribitHub; states: { state: string; name: string }[] } {
  const states: { state: string; name: string }[] = [];
  const session = {
    subs: new Set(['instrument.state.option.BTC']),
    notifyEssential: (_ch: string, data: { state: string; instrument_name: string }) => states.push({ state: data.state, name: data.instrument_name }),
  };
  return { hub: { sessions: new Set([session]) } as unknown as DeribitHub, states };
}

describe('SimSource listing events', () => {
  const startMs = Date.parse('2026-03-06T07:59:59.000Z');

  it('announces the 08:00 roll on the next tick even when a request advanced the market past it first', () => {
    let wall = 1_000_000;
    const source = new SimSource(new MarketSim({ seed: 42, startMs }), new SimClock(startMs, 1, () => wall), new FaultState());
    const { hub, states } = recordingHub();
    source.tick(hub, 1);
    expect(states).toEqual([]);
    wall += 2_000; // 08:00:01
    // A request (here the 10-minute instrument refresh) lands between the roll and the next tick.
    const answer = source.request('public/get_instruments', { currency: 'BTC', kind: 'option' }) as { result: { instrument_name: string }[] };
    expect(answer.result.some((r) => r.instrument_name.includes('-6MAR26-'))).toBe(false);
    source.tick(hub, 2);
    expect(states.some((s) => s.state === 'terminated' && s.name.includes('-6MAR26-'))).toBe(true);
    expect(states.some((s) => s.state === 'created')).toBe(true);
    // Announced once, not again on later ticks.
    const n = states.length;
    source.tick(hub, 3);
    expect(states.length).toBe(n);
  });
});
