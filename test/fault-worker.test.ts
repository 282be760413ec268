/**
 * Issue 6 fault 8 (reliability §5.1 test 20), the part the unit tests in src/state/worker-client.test.ts
 * do not cover: the watchdog restarting a *real* engine that holds live sockets to the simulator.
 * The "worker" is an EngineHost behind a fake Worker (structured-clone hop, async delivery); terminate
 * disposes it. A hung engine (stops answering pings) and a `messageerror` each lead to a restart with
 * hello + selection re-sent and a "worker restarted (n)" notice; the figures come back live from the new
 * engine, and the old engine's socket is gone (the simulator sees exactly one session, never two).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.ts';
import { EngineHost } from '../src/worker/host.ts';
import { createWorkerClient, type WorkerClient, type WorkerLike } from '../src/state/worker-client.ts';
import type { FromWorker, ResultMessage, ToWorker } from '../src/worker/protocol.ts';
import { TEST_FEED_OPTIONS, btcSelection, realClock, staysFor, waitFor, wsFactory } from './harness.ts';

interface FakeWorker extends WorkerLike {
  host: EngineHost;
  received: ToWorker[];
  hung: boolean;
  terminated: boolean;
}

let server: RunningServer | undefined;
let client: WorkerClient | undefined;
afterAll(async () => {
  client?.dispose();
  await server?.close();
});

describe('worker watchdog with a real engine against the simulator', () => {
  it('restarts a hung engine and one that sent an unreadable message; no duplicate sockets; figures live again', async () => {
    server = await startServer({ source: 'sim', seed: 61, speed: 1, port: 0, startMs: Date.UTC(2026, 6, 1, 12, 0, 0), log: () => undefined });
    const base = server.url.replace(/^http/, 'ws');
    const workers: FakeWorker[] = [];
    const createWorker = (): WorkerLike => {
      const w = {
        received: [] as ToWorker[], hung: false, terminated: false,
        onmessage: null, onerror: null, onmessageerror: null,
        postMessage(msg: ToWorker) {
          w.received.push(msg);
          if (w.hung || w.terminated) return;
          setTimeout(() => w.host.handle(structuredClone(msg)), 0);
        },
        terminate() {
          w.terminated = true;
          w.host.dispose();
        },
      } as unknown as FakeWorker;
      w.host = new EngineHost({
        clock: realClock, socketFactory: wsFactory, feedOptions: TEST_FEED_OPTIONS, staleAfterMs: 2_000,
        post: (msg) => {
          if (w.hung || w.terminated) return;
          const copy = structuredClone(msg);
          setTimeout(() => w.onmessage?.({ data: copy }), 0);
        },
      });
      workers.push(w);
      return w;
    };
    client = createWorkerClient({ createWorker, localBase: base, pingIntervalMs: 200, pongTimeoutMs: 1_000 });
    const seen: FromWorker[] = [];
    client.subscribe((m) => {
      seen.push(m);
      if (m.type === 'result') client!.ack(m.seq);
    });
    client.select(btcSelection);
    const liveFrom = (w: FakeWorker) => waitFor('live figures from the current engine', () =>
      w.host.snapshot()?.gex.includedLines && seen.some((m): m is ResultMessage => m.type === 'result' && m.gex.includedLines > 100 && seen.indexOf(m) > seen.findLastIndex((x) => x.type === 'notice' && x.message.startsWith('worker restarted'))), 15_000);
    await liveFrom(workers[0]);
    expect(server.hub.sessions.size).toBe(1);

    // 1. The engine hangs: no pongs, no results.
    workers[0].hung = true;
    const t0 = Date.now();
    await waitFor('restart after the pong timeout', () => workers.length === 2, 5_000);
    const detectMs = Date.now() - t0;
    expect(detectMs).toBeGreaterThanOrEqual(900);
    expect(detectMs).toBeLessThan(2_500);
    expect(workers[0].terminated).toBe(true);
    expect(workers[1].received.slice(0, 2)).toEqual([
      { type: 'hello', protocolVersion: 1, localBase: base },
      { type: 'select', selection: btcSelection },
    ]);
    expect(seen.some((m) => m.type === 'notice' && m.message.startsWith('worker restarted (1)'))).toBe(true);
    await liveFrom(workers[1]);
    // the hung engine's socket was closed with it: one session, and it stays one
    await staysFor('one session', () => server!.hub.sessions.size === 1, 300);

    // 2. An unreadable message (messageerror).
    workers[1].onmessageerror?.({});
    expect(workers.length).toBe(3);
    expect(workers[1].terminated).toBe(true);
    expect(seen.some((m) => m.type === 'notice' && m.message.startsWith('worker restarted (2)'))).toBe(true);
    await liveFrom(workers[2]);
    await staysFor('one session', () => server!.hub.sessions.size === 1, 300);
    expect(client.status()).toEqual({ state: 'running', restarts: 2 });
    // The healthy engine is left alone.
    await staysFor('no third restart', () => workers.length === 3, 1_500);
  }, 40_000);
});
