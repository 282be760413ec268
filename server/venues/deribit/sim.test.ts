import { describe, expect, it } from 'vitest';
import { SimClock } from '../../clock.ts';
import { FaultState } from '../../faults/state.ts';
import { MarketSim } from '../../sim/market.ts';
import { VenueHub } from '../hub.ts';
import type { VenueSession } from '../session.ts';
import { DERIBIT_SESSION } from './protocol.ts';
import { DeribitSim } from './sim.ts';

/** The Deribit hub with one session that only records what the source announces on instrument.state. */
function recordingHub(clock: SimClock): { hub: VenueHub; states: { state: string; name: string }[] } {
  const states: { state: string; name: string }[] = [];
  const hub = new VenueHub({ venue: 'deribit', clock, now: () => clock.now(), faults: new FaultState(), session: DERIBIT_SESSION, maxFrameBytes: 16 * 1024 });
  const session = {
    closed: false,
    subs: new Set(['instrument.state.option.BTC']),
    announce: (text: string) => {
      const data = (JSON.parse(text) as { params: { data: { state: string; instrument_name: string } } }).params.data;
      states.push({ state: data.state, name: data.instrument_name });
      return true;
    },
  };
  hub.sessions.add(session as unknown as VenueSession);
  return { hub, states };
}

describe('DeribitSim listing events', () => {
  const startMs = Date.parse('2026-03-06T07:59:59.000Z');

  it('announces the 08:00 roll on the next tick even when a request advanced the market past it first', () => {
    let wall = 1_000_000;
    const { hub, states } = recordingHub(new SimClock(startMs, 1, () => wall));
    const source = new DeribitSim(hub, new MarketSim({ seed: 42, startMs }));
    source.tick(1);
    expect(states).toEqual([]);
    wall += 2_000; // 08:00:01
    // A request (here the 10-minute instrument refresh) lands between the roll and the next tick.
    const answer = source.request('public/get_instruments', { currency: 'BTC', kind: 'option' }) as { result: { instrument_name: string }[] };
    expect(answer.result.some((r) => r.instrument_name.includes('-6MAR26-'))).toBe(false);
    source.tick(2);
    expect(states.some((s) => s.state === 'terminated' && s.name.includes('-6MAR26-'))).toBe(true);
    expect(states.some((s) => s.state === 'created')).toBe(true);
    // Announced once, not again on later ticks.
    const n = states.length;
    source.tick(3);
    expect(states.length).toBe(n);
  });
});
