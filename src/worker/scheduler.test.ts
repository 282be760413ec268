import { describe, expect, it } from 'vitest';
import { RecomputeScheduler, ResultGate } from './scheduler.ts';
import { FakeClock } from '../feeds/testing.ts';

describe('RecomputeScheduler', () => {
  it('coalesces any number of ticks into one pending recompute', () => {
    const clock = new FakeClock(1_000_000);
    const runsAt: number[] = [];
    const s = new RecomputeScheduler({ clock, run: () => runsAt.push(clock.now()) });
    for (let i = 0; i < 1000; i++) s.markDirty();
    expect(clock.pending).toBe(1);
    expect(s.pending).toBe(true);
    clock.advance(0);
    expect(runsAt).toEqual([1_000_000]);
    expect(s.pending).toBe(false);
  });

  it('runs at most every 250 ms under a continuous stream of ticks', () => {
    const clock = new FakeClock(1_000_000);
    const runsAt: number[] = [];
    const s = new RecomputeScheduler({ clock, run: () => runsAt.push(clock.now() - 1_000_000) });
    // A tick every 10 ms for 1 s.
    for (let t = 0; t < 1000; t += 10) {
      s.markDirty();
      clock.advance(10);
    }
    // The last tick (at 990) is served at 1000, the next slot.
    expect(runsAt).toEqual([0, 250, 500, 750, 1000]);
    // Nothing dirty: no more runs.
    clock.advance(2000);
    expect(runsAt.length).toBe(5);
  });

  it('a tick after a quiet period runs at once', () => {
    const clock = new FakeClock(1_000_000);
    let runs = 0;
    const s = new RecomputeScheduler({ clock, run: () => runs++ });
    s.markDirty();
    clock.advance(0);
    clock.advance(5000);
    s.markDirty();
    clock.advance(0);
    expect(runs).toBe(2);
  });

  it('runNow runs synchronously, cancels the pending one and restarts the interval', () => {
    const clock = new FakeClock(1_000_000);
    const runsAt: number[] = [];
    const s = new RecomputeScheduler({ clock, run: () => runsAt.push(clock.now() - 1_000_000) });
    s.markDirty();
    clock.advance(0); // run at 0
    clock.advance(100);
    s.markDirty(); // due at 250
    s.runNow(); // at 100
    expect(runsAt).toEqual([0, 100]);
    expect(s.pending).toBe(false);
    s.markDirty();
    clock.advance(1000);
    expect(runsAt).toEqual([0, 100, 350]);
  });

  it('does nothing after dispose', () => {
    const clock = new FakeClock(1_000_000);
    let runs = 0;
    const s = new RecomputeScheduler({ clock, run: () => runs++ });
    s.markDirty();
    s.dispose();
    clock.advance(1000);
    s.markDirty();
    s.runNow();
    expect(runs).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

describe('ResultGate', () => {
  it('posts while the main thread is at most one result behind, then keeps only the newest', () => {
    const sent: number[] = [];
    const gate = new ResultGate<{ seq: number }>((m) => sent.push(m.seq));
    gate.offer({ seq: 1 });
    gate.offer({ seq: 2 });
    expect(sent).toEqual([1, 2]);
    gate.offer({ seq: 3 });
    gate.offer({ seq: 4 });
    gate.offer({ seq: 5 });
    expect(sent).toEqual([1, 2]);
    expect(gate.heldSeq).toBe(5);
    expect(gate.replaced).toBe(2);
    gate.ack(1);
    expect(sent).toEqual([1, 2, 5]);
    expect(gate.heldSeq).toBeNull();
    gate.offer({ seq: 6 });
    expect(sent).toEqual([1, 2, 5]);
    gate.ack(5); // painted 5: acks 2 as well
    expect(sent).toEqual([1, 2, 5, 6]);
    expect(gate.unacked).toBe(1);
  });

  it('reset forgets unacked results (a new main thread)', () => {
    const sent: number[] = [];
    const gate = new ResultGate<{ seq: number }>((m) => sent.push(m.seq));
    gate.offer({ seq: 1 });
    gate.offer({ seq: 2 });
    gate.offer({ seq: 3 });
    gate.reset();
    gate.offer({ seq: 4 });
    expect(sent).toEqual([1, 2, 4]);
  });
});
