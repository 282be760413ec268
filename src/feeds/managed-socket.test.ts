import { describe, expect, it } from 'vitest';
import { CLOSE_DATA_SILENCE, CLOSE_SILENCE, ManagedSocket, type FrameClass, type ManagedSocketOptions } from './managed-socket.ts';
import { FakeClock, RecordingSink, fakeSockets } from './testing.ts';

function make(over: Partial<ManagedSocketOptions> = {}) {
  const clock = new FakeClock();
  const { factory, sockets } = fakeSockets();
  const sink = new RecordingSink();
  const ms = new ManagedSocket({
    venue: 'okx',
    label: 't',
    url: 'ws://x/okx/ws/v5/public',
    clock,
    socketFactory: factory,
    sink,
    random: () => 0.5,
    ping: null,
    subscribeMessages: () => ['a', 'b', 'c'],
    sendSpacingMs: 0,
    onText: () => 'data',
    ...over,
  });
  return { clock, sockets, sink, ms };
}

const retries = (sink: RecordingSink) => sink.events.flatMap((e) => (e.kind === 'closed' ? [e.retryInMs] : []));

describe('ManagedSocket', () => {
  it('accept-then-close flapping keeps backing off (full jitter, doubling to the 30 s cap)', () => {
    const { clock, sockets, sink, ms } = make();
    ms.start();
    for (let i = 0; i < 8; i++) {
      const s = sockets.at(-1)!;
      s.open();
      s.serverClose(1006, 'flap');
      clock.advance(retries(sink).at(-1)!);
    }
    expect(retries(sink)).toEqual([500, 1_000, 2_000, 4_000, 8_000, 15_000, 15_000, 15_000]);
    ms.stop();
  });

  it('dial timeout: a socket that never opens is abandoned after 10 s', () => {
    const { clock, sockets, sink, ms } = make();
    ms.start();
    clock.advance(9_999);
    expect(sockets[0].closed).toBeNull();
    clock.advance(1);
    expect(sockets[0].closed).not.toBeNull();
    expect(sink.events.find((e) => e.kind === 'closed')).toMatchObject({ reason: 't: connect timeout' });
    ms.stop();
  });

  it('hourly subscribe budget defers the excess to the next hour', () => {
    const { clock, sockets, ms } = make({ hourlyBudget: 2 });
    ms.start();
    sockets[0].open();
    expect(sockets[0].sent).toEqual(['a', 'b']);
    clock.advance(3_599_999);
    expect(sockets[0].sent).toEqual(['a', 'b']);
    clock.advance(1);
    expect(sockets[0].sent).toEqual(['a', 'b', 'c']);
    ms.stop();
  });

  it('a handler that throws counts a drop and the socket stays up; stop ends everything', () => {
    const { clock, sockets, sink, ms } = make({
      onText: () => {
        throw new Error('bug');
      },
    });
    ms.start();
    sockets[0].open();
    expect(() => sockets[0].receive('{}')).not.toThrow();
    expect(sink.drops()).toEqual(['malformed']);
    ms.stop();
    expect(sockets[0].closed).not.toBeNull();
    clock.advance(120_000);
    expect(sockets).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('liveness and data silence are watched apart, without a timer per frame', () => {
    let cls: FrameClass = 'data';
    const { clock, sockets, sink, ms } = make({ silenceMs: 7_000, dataSilenceMs: 60_000, onText: () => cls });
    ms.start();
    sockets[0].open();
    let armed = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => (armed++, setTimeout(fn, ms));
    for (let i = 0; i < 100; i++) {
      clock.advance(100);
      sockets[0].receive('{}');
    }
    expect(armed).toBeLessThanOrEqual(2); // each watchdog re-armed once for its remainder, not per frame
    // Heartbeats only: alive (no frame is ever 7 s late) but no data for a minute.
    cls = 'heartbeat';
    for (let t = 0; t < 59_000; t += 1_000) {
      clock.advance(1_000);
      sockets[0].receive('{}');
    }
    expect(sockets[0].closed).toBeNull();
    clock.advance(1_000);
    expect(sink.ofKind('closed')).toEqual([{ kind: 'closed', code: CLOSE_DATA_SILENCE, reason: 't: no data for 60000 ms', retryInMs: 500 }]);
    // The next connection: nothing at all for 7 s.
    clock.advance(500);
    sockets[1].open();
    clock.advance(6_999);
    expect(sockets[1].closed).toBeNull();
    clock.advance(1);
    expect(sink.ofKind('closed').at(-1)).toMatchObject({ code: CLOSE_SILENCE, reason: 't: no frame for 7000 ms' });
    ms.stop();
  });

  it('sendNow skips the paced queue; a connection timer ends with its connection', () => {
    const { clock, sockets, ms } = make({ sendSpacingMs: 1_000 });
    const fired: number[] = [];
    ms.start();
    expect(ms.sendNow('early')).toBe(false);
    sockets[0].open();
    expect(ms.sendNow('hello')).toBe(true);
    expect(sockets[0].sent).toEqual(['a', 'hello']);
    ms.connectionTimer(5_000, () => fired.push(1));
    clock.advance(2_000);
    expect(sockets[0].sent).toEqual(['a', 'hello', 'b', 'c']);
    sockets[0].serverClose();
    clock.advance(500);
    sockets[1].open();
    ms.connectionTimer(5_000, () => fired.push(2));
    clock.advance(10_000);
    expect(fired).toEqual([2]);
    ms.stop();
  });
});
