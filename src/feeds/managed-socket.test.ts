import { describe, expect, it } from 'vitest';
import { ManagedSocket, type ManagedSocketOptions } from './managed-socket.ts';
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
});
