import { describe, expect, it } from 'vitest';
import { createWorkerClient, type WorkerLike } from './worker-client.ts';
import { PROTOCOL_VERSION, SELECTION_DEFAULTS, type FromWorker, type ToWorker, type ViewSelection } from '../worker/protocol.ts';
import { FakeClock } from '../feeds/testing.ts';

/** A fake worker that answers pings unless hung. */
class FakeWorker implements WorkerLike {
  received: ToWorker[] = [];
  terminated = false;
  hung = false;
  onmessage: WorkerLike['onmessage'] = null;
  onerror: WorkerLike['onerror'] = null;
  onmessageerror: WorkerLike['onmessageerror'] = null;
  postMessage(msg: ToWorker): void {
    this.received.push(msg);
    if (this.hung || this.terminated) return;
    if (msg.type === 'ping') this.reply({ type: 'pong', id: msg.id });
  }
  reply(msg: FromWorker): void {
    this.onmessage?.({ data: msg });
  }
  terminate(): void {
    this.terminated = true;
  }
}

const sel: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };

function setup() {
  const clock = new FakeClock(0);
  const workers: FakeWorker[] = [];
  const client = createWorkerClient({
    clock,
    localBase: 'ws://127.0.0.1:9999',
    createWorker: () => {
      const w = new FakeWorker();
      workers.push(w);
      return w;
    },
  });
  const seen: FromWorker[] = [];
  client.subscribe((m) => seen.push(m));
  return { clock, workers, client, seen };
}

describe('worker client', () => {
  it('says hello with the protocol version and local base, then forwards selection and acks', () => {
    const { workers, client } = setup();
    client.select(sel);
    client.ack(7);
    expect(workers[0].received).toEqual([
      { type: 'hello', protocolVersion: PROTOCOL_VERSION, localBase: 'ws://127.0.0.1:9999' },
      { type: 'select', selection: sel },
      { type: 'ack', seq: 7 },
    ]);
  });

  it('resolves and rejects requests by id; pongs and responses are not forwarded', async () => {
    const { workers, client, seen } = setup();
    const p1 = client.request({ kind: 'snapshot' });
    const p2 = client.request({ kind: 'expiries', venues: ['deribit'], currency: 'ETH' });
    const reqs = workers[0].received.filter((m) => m.type === 'request') as Extract<ToWorker, { type: 'request' }>[];
    expect(reqs.map((r) => r.request.kind)).toEqual(['snapshot', 'expiries']);
    workers[0].reply({ type: 'response', id: reqs[1].id, ok: false, error: 'nope' });
    workers[0].reply({ type: 'response', id: reqs[0].id, ok: true, kind: 'snapshot', data: null });
    await expect(p1).resolves.toBeNull();
    await expect(p2).rejects.toThrow('nope');
    workers[0].reply({ type: 'notice', level: 'info', message: 'hi' });
    expect(seen).toEqual([{ type: 'notice', level: 'info', message: 'hi' }]);
  });

  it('pings every second and keeps a healthy worker', () => {
    const { clock, workers, client } = setup();
    clock.advance(30_000);
    expect(workers.length).toBe(1);
    expect(workers[0].received.filter((m) => m.type === 'ping').length).toBe(30);
    expect(client.status()).toEqual({ state: 'running', restarts: 0 });
  });

  it('restarts a hung worker after 5 s without an answer, resending hello and the selection', async () => {
    const { clock, workers, client, seen } = setup();
    client.select(sel);
    const pendingReq = client.request({ kind: 'snapshot' });
    clock.advance(2_000);
    workers[0].hung = true;
    clock.advance(5_000);
    expect(workers.length).toBe(1); // 5 s exactly: not yet
    clock.advance(1_000);
    expect(workers.length).toBe(2);
    expect(workers[0].terminated).toBe(true);
    expect(workers[1].received.slice(0, 2)).toEqual([
      { type: 'hello', protocolVersion: PROTOCOL_VERSION, localBase: 'ws://127.0.0.1:9999' },
      { type: 'select', selection: sel },
    ]);
    expect(client.status()).toEqual({ state: 'running', restarts: 1 });
    expect(seen.some((m) => m.type === 'notice' && m.message.startsWith('worker restarted (1)'))).toBe(true);
    await expect(pendingReq).rejects.toThrow('worker restarted');
    // Messages from the dead worker are ignored.
    workers[0].onmessage?.({ data: { type: 'notice', level: 'info', message: 'zombie' } });
    expect(seen.some((m) => m.type === 'notice' && m.message === 'zombie')).toBe(false);
  });

  it('a ping timer that fires late (page frozen or asleep) does not blame the worker; a worker hung after that still is restarted', () => {
    const { clock, workers, client } = setup();
    clock.advance(3_000);
    // Frozen for 20 s: no timer ran, the worker's answers are still queued behind the overdue ping timer.
    workers[0].hung = true;
    clock.t += 20_000;
    clock.advance(0);
    expect(workers.length).toBe(1);
    workers[0].hung = false;
    clock.advance(10_000);
    expect(client.status()).toEqual({ state: 'running', restarts: 0 });
    // The watchdog is judging again: a real hang is caught 5 s on.
    workers[0].hung = true;
    clock.advance(6_000);
    expect(workers.length).toBe(2);
    expect(client.status().restarts).toBe(1);
  });

  it('restarts on an error event', () => {
    const { workers, client } = setup();
    workers[0].onerror?.({ message: 'boom' });
    expect(workers.length).toBe(2);
    expect(client.status().restarts).toBe(1);
  });

  it('caps restarts at 5 per 10 min, then reports the engine down', () => {
    const { clock, workers, client, seen } = setup();
    const states: string[] = [];
    client.onStatus((s) => states.push(`${s.state}:${s.restarts}`));
    for (let i = 0; i < 6; i++) {
      workers[workers.length - 1].onerror?.({ message: `crash ${i}` });
      clock.advance(10_000);
    }
    expect(workers.length).toBe(6); // the original + 5 restarts
    expect(client.status()).toEqual({ state: 'down', restarts: 5 });
    expect(states).toEqual(['running:1', 'running:2', 'running:3', 'running:4', 'running:5', 'down:5']);
    expect(seen.filter((m) => m.type === 'notice' && m.level === 'error').length).toBe(1);
    // Down: no more pings, no new workers.
    clock.advance(60_000);
    expect(workers.length).toBe(6);
  });

  it('restarts again once old restarts leave the 10-min window', () => {
    const { clock, workers, client } = setup();
    for (let i = 0; i < 5; i++) {
      workers[workers.length - 1].onerror?.({ message: 'crash' });
      clock.advance(1_000);
    }
    clock.advance(10 * 60_000);
    workers[workers.length - 1].onerror?.({ message: 'crash' });
    expect(client.status()).toEqual({ state: 'running', restarts: 6 });
  });

  it('dispose terminates the worker and stops pinging', () => {
    const { clock, workers, client } = setup();
    client.dispose();
    expect(workers[0].terminated).toBe(true);
    const n = workers[0].received.length;
    clock.advance(10_000);
    expect(workers[0].received.length).toBe(n);
    expect(workers.length).toBe(1);
  });
});

describe('worker client with the real EngineHost behind a message port', () => {
  it('speaks the protocol end to end: hello, notices, requests, pings without restarts', async () => {
    const { EngineHost } = await import('../worker/host.ts');
    const clock = new FakeClock(0);
    let host: InstanceType<typeof EngineHost> | null = null;
    const createWorker = (): WorkerLike => {
      const w: WorkerLike = {
        // Structured-clone-like hop: the host sees a copy, asynchronously.
        postMessage: (msg) => queueMicrotask(() => host!.handle(structuredClone(msg))),
        terminate: () => host?.dispose(),
        onmessage: null,
        onerror: null,
        onmessageerror: null,
      };
      host = new EngineHost({
        clock,
        socketFactory: () => {
          throw new Error('no sockets here');
        },
        adapters: [],
        post: (msg) => queueMicrotask(() => w.onmessage?.({ data: structuredClone(msg) })),
      });
      return w;
    };
    const client = createWorkerClient({ clock, createWorker, localBase: 'ws://127.0.0.1:1' });
    const seen: FromWorker[] = [];
    client.subscribe((m) => seen.push(m));
    client.select(sel); // no adapter for deribit in this host: a notice, not a crash
    await new Promise((r) => setTimeout(r, 0));
    expect(seen[0]).toEqual({ type: 'hello', protocolVersion: PROTOCOL_VERSION });
    expect(seen.some((m) => m.type === 'notice' && m.message.includes('venue deribit'))).toBe(true);
    const expiries = client.request({ kind: 'expiries', venues: ['deribit'], currency: 'BTC' });
    await expect(expiries).resolves.toEqual([]);
    await expect(client.request({ kind: 'snapshot' })).resolves.toBeNull();
    for (let i = 0; i < 20; i++) {
      clock.advance(1_000);
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(client.status()).toEqual({ state: 'running', restarts: 0 });
    client.dispose();
  });
});
