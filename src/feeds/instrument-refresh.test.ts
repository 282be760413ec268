import { describe, expect, it } from 'vitest';
import { InstrumentRefresher, type InstrumentLoad } from './instrument-refresh.ts';
import { FakeClock, RecordingSink, flush } from './testing.ts';
import type { OptionInstrument } from '../chain/model.ts';

const inst = (name: string): OptionInstrument => ({ venue: 'okx', name, currency: 'BTC', strike: 40_000, expiryMs: Date.UTC(2024, 0, 26, 8), isCall: true, multiplier: 0.1 });

function setup(answers: (() => InstrumentLoad | Promise<InstrumentLoad>)[]) {
  const clock = new FakeClock();
  const sink = new RecordingSink();
  const lists: string[][] = [];
  let calls = 0;
  const refresher = new InstrumentRefresher({
    venue: 'okx', clock, sink, random: () => 0.5, refreshMs: 600_000,
    load: async () => answers[Math.min(calls++, answers.length - 1)](),
    onList: (list) => lists.push(list.map((i) => i.name)),
  });
  return { clock, sink, lists, refresher, calls: () => calls };
}

describe('InstrumentRefresher', () => {
  it('loads at start and every refresh period', async () => {
    const env = setup([() => ({ list: [inst('A')] }), () => ({ list: [inst('A'), inst('B')] })]);
    env.refresher.start();
    await flush();
    expect(env.lists).toEqual([['A']]);
    env.clock.advance(599_999);
    await flush();
    expect(env.calls()).toBe(1);
    env.clock.advance(1);
    await flush();
    expect(env.lists).toEqual([['A'], ['A', 'B']]);
  });

  it('a failed request or an error answer is shown with its retry time and retried with backoff (2 s base + 2 s)', async () => {
    const env = setup([
      () => {
        throw new Error('HTTP 503');
      },
      () => ({ error: 'code 50011: too many requests' }),
      () => ({ list: [inst('A')] }),
    ]);
    env.refresher.start();
    await flush();
    const errors = () => env.sink.events.flatMap((e) => (e.kind === 'venueError' ? [[e.message, e.retryInMs]] : []));
    // Full jitter 0.5 x min(60 s, 2 s x 2^n) + 2 s: 3 s, then 4 s.
    expect(errors()).toEqual([['instruments request failed: Error: HTTP 503', 3_000]]);
    env.clock.advance(3_000);
    await flush();
    expect(errors().at(-1)).toEqual(['code 50011: too many requests', 4_000]);
    env.clock.advance(4_000);
    await flush();
    expect(env.lists).toEqual([['A']]);
    expect(env.calls()).toBe(3);
  });

  it('an answer arriving after stop() is ignored and nothing is scheduled; refreshNow loads at once', async () => {
    let release: (v: InstrumentLoad) => void = () => {};
    const env = setup([() => new Promise<InstrumentLoad>((r) => (release = r)), () => ({ list: [inst('B')] })]);
    env.refresher.start();
    env.refresher.stop();
    release({ list: [inst('A')] });
    await flush();
    expect(env.lists).toEqual([]);
    expect(env.clock.pending).toBe(0);
    env.refresher.start();
    await flush();
    expect(env.lists).toEqual([['B']]);
    env.refresher.refreshNow();
    env.clock.advance(0);
    await flush();
    expect(env.calls()).toBe(3);
  });
});
