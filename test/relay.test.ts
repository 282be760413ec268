/**
 * Issue 16, the desk relay: twenty screens (each an EngineHost with the page's own Deribit client) on
 * one relay fed by the simulator, against one screen connected to the simulator directly.
 * - the figures of every relayed screen equal the direct screen's at one frozen instant;
 * - the simulator sees one relay connection and each channel subscribed once, however many screens;
 * - a screen joining late gets the book and the last frames at once;
 * - the venue going silent leaves every screen connected and stale, with the relay's info naming the
 *   venue; the relay dying puts every screen into reconnecting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.ts';
import { TestClient } from '../server/testing/test-client.ts';
import type { RelayVenueInfo } from '../server/relay/source.ts';
import { sleep, chainBuilt, expectSameFigures, freeze, frozenStep, post, resumeAll, startRun, TEST_FEED_OPTIONS, waitFor, waitSettled, type Run } from './harness.ts';

const SCREENS = 20;
const START_MS = Date.UTC(2026, 11, 4, 9, 30);

async function relayInfo(relay: RunningServer): Promise<Partial<Record<string, RelayVenueInfo>>> {
  const r = (await (await fetch(`${relay.url}/__gexdesk/info`)).json()) as { relay: Partial<Record<string, RelayVenueInfo>> };
  return r.relay;
}

describe('live relay: twenty screens on one upstream', () => {
  // the relay's simulator serves the relay alone; the direct screen has its own (same seed and start:
  // the same market, frozen at the same instant by `freeze`)
  let sim: RunningServer;
  let relay: RunningServer;
  let direct: Run;
  const screens: Run[] = [];

  beforeAll(async () => {
    sim = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START_MS, log: () => undefined });
    direct = await startRun({ seed: 42, startMs: START_MS, host: { minIntervalMs: 500 } });
    await chainBuilt(direct);
    relay = await startServer({
      source: 'live', port: 0, log: () => undefined,
      relay: { upstreamBase: sim.url.replace(/^http/, 'ws'), graceMs: 3_000, feedOptions: { ...TEST_FEED_OPTIONS } },
    });
    for (let i = 0; i < SCREENS; i++) screens.push(await startRun({ seed: 42, startMs: START_MS, via: relay, host: { minIntervalMs: 500 } }));
    await Promise.all(screens.map((s) => chainBuilt(s, 30_000)));
  }, 90_000);

  afterAll(async () => {
    for (const s of screens) await s.close();
    await direct?.close();
    await relay?.close();
    await sim?.close();
  });

  it('every screen shows the figures of a screen on the simulator itself', async () => {
    const t = await freeze([sim, direct.server]);
    const step = frozenStep(sim, t);
    const [ref, ...rest] = await waitSettled([direct, ...screens], step, 60_000);
    expect(rest).toHaveLength(SCREENS);
    for (const r of rest) expectSameFigures(r, ref);
    await post(sim, '/__sim/resume');
    await resumeAll([direct]);
  }, 120_000);

  it('the simulator sees one relay connection, each channel subscribed once', async () => {
    // one connection at a time (a reconnect under load would be a second, one after the other)
    expect(sim.hub.sessions.size).toBe(1);
    const info = await relayInfo(relay);
    expect(info.deribit?.connections).toBe(1);
    const connections = new Set(sim.hub.requestLog.map((x) => x.sessionId));
    expect(connections.size).toBe(info.deribit?.connects);
    for (const id of connections) {
      const subscribed = new Map<string, number>();
      for (const x of sim.hub.requestLog) {
        if (x.sessionId !== id || x.method !== 'public/subscribe') continue;
        // the log keeps a request's first 200 characters: count the channel names it shows whole
        for (const m of x.text.matchAll(/"([a-z_]+\.[A-Za-z0-9_.-]+)"/g)) subscribed.set(m[1], (subscribed.get(m[1]) ?? 0) + 1);
      }
      expect(subscribed.size).toBeGreaterThan(3);
      for (const [ch, n] of subscribed) expect(`${ch} x${n}`).toBe(`${ch} x1`);
    }
    expect(relay.hub.sessions.size).toBe(SCREENS);
    // twenty screens asked for the instruments and the book summary at start: the cache answered most
    expect(info.deribit!.cacheHits).toBeGreaterThanOrEqual(SCREENS);
  });

  it('a screen joining late gets the book and the last frames at once', async () => {
    const c = await TestClient.connect(relay.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2');
    try {
      const r = await c.call('public/subscribe', { channels: ['book.BTC-PERPETUAL.100ms', 'markprice.options.btc_usd'] });
      const at = Date.now();
      expect(r.result).toEqual(['book.BTC-PERPETUAL.100ms', 'markprice.options.btc_usd']);
      const book = await c.waitFor((m) => m.params?.channel === 'book.BTC-PERPETUAL.100ms', 2_000);
      expect((book.params!.data as { type: string }).type).toBe('snapshot');
      await c.waitFor((m) => m.params?.channel === 'markprice.options.btc_usd', 2_000);
      // the simulator sends markprice once a second: this one was kept by the relay, not waited for
      expect(Date.now() - at).toBeLessThan(500);
    } finally {
      c.close();
    }
  });

  it('the venue going silent is the venue\'s fault on every screen; the relay dying is the relay\'s', async () => {
    const marks = screens.map((s) => s.states.length);
    await post(sim, '/__sim/fault', { kind: 'silent', venue: 'deribit' });
    // every screen keeps its connection to the relay and goes stale
    await waitFor('every screen stale', () => screens.every((s) => s.host.health()[0]?.state === 'stale'), 30_000);
    // the relay says which venue it is: its upstream connection to Deribit is silent or being remade
    for (let tries = 0; ; tries++) {
      const u = (await relayInfo(relay)).deribit?.upstream.BTC;
      if (u !== undefined && (u.silent || u.state === 'reconnecting')) break;
      if (tries > 300) throw new Error(`relay does not name deribit down: ${JSON.stringify(u)}`);
      await sleep(100);
    }
    // ...while no screen lost its connection to the relay
    screens.forEach((s, i) => expect(s.states.slice(marks[i])).not.toContain('reconnecting'));
    await post(sim, '/__sim/clear');
    await waitFor('every screen connected again', () => screens.every((s) => s.host.health()[0]?.state === 'connected'), 60_000);
    await relay.close();
    await waitFor('every screen reconnecting', () => screens.every((s) => ['reconnecting', 'down'].includes(s.host.health()[0]?.state ?? '')), 30_000);
  }, 150_000);
});

describe('live relay: a slow screen, and the upstream released after the last screen', () => {
  let sim: RunningServer;
  let relay: RunningServer;

  beforeAll(async () => {
    sim = await startServer({ source: 'sim', seed: 7, port: 0, startMs: START_MS, log: () => undefined });
    relay = await startServer({
      source: 'live', port: 0, log: () => undefined,
      // small send buffers, so a screen that does not read reaches them in seconds
      limits: { softBufferBytes: 16 * 1024, hardBufferBytes: 256 * 1024, hardGraceMs: 500, softGraceMs: 2_000 },
      relay: { upstreamBase: sim.url.replace(/^http/, 'ws'), heartbeatS: 1, graceMs: 1_500, feedOptions: { ...TEST_FEED_OPTIONS } },
    });
  });

  afterAll(async () => {
    await relay?.close();
    await sim?.close();
  });

  it('a screen that does not read is skipped frames, then dropped, and costs the others nothing', async () => {
    const url = relay.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2';
    const channels = ['book.BTC-PERPETUAL.100ms', 'markprice.options.btc_usd', 'deribit_price_index.btc_usd', 'ticker.BTC-PERPETUAL.100ms'];
    const fast = await TestClient.connect(url);
    const slow = await TestClient.connect(url);
    await fast.call('public/subscribe', { channels });
    await slow.call('public/subscribe', { channels });
    await fast.waitFor((m) => m.params?.channel === 'book.BTC-PERPETUAL.100ms', 10_000);
    // a busy market (every frame x40), and the slow screen stops reading: its socket is paused, the
    // kernel's buffers fill, then the relay's
    await post(sim, '/__sim/fault', { kind: 'flood', venue: 'deribit', factor: 40 });
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const before = fast.notes('markprice.options.btc_usd').length;
    // (the paused client cannot see its own close: the relay's count says it)
    await waitFor('the slow screen dropped', () => relay.stats().closedSlow === 1, 30_000);
    await post(sim, '/__sim/clear');
    slow.close();
    expect((await relayInfo(relay)).deribit!.skipped).toBeGreaterThan(0);
    // the fast screen went on getting markprice frames meanwhile, and goes on
    await waitFor('markprice to the fast screen', () => fast.notes('markprice.options.btc_usd').length >= before + 2, 10_000);
    fast.close();
  }, 60_000);

  it('the upstream is unsubscribed a grace period after its last screen left', async () => {
    const c = await TestClient.connect(relay.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2');
    await c.call('public/subscribe', { channels: ['markprice.options.eth_usd'] });
    await c.waitFor((m) => m.params?.channel === 'markprice.options.eth_usd', 10_000);
    const holdsEth = () => [...sim.hub.sessions].some((s) => s.subs.has('markprice.options.eth_usd'));
    expect(holdsEth()).toBe(true);
    expect((await relayInfo(relay)).deribit?.upstream.ETH?.state).toBe('open');
    c.close();
    const left = Date.now();
    for (;;) {
      const up = (await relayInfo(relay)).deribit?.upstream;
      if (up && up.ETH === undefined) break;
      if (Date.now() - left > 10_000) throw new Error(`ETH still held upstream: ${JSON.stringify(up)}`);
      await sleep(100);
    }
    // not before the grace period (1.5 s; held is checked each second)
    expect(Date.now() - left).toBeGreaterThanOrEqual(1_400);
    await waitFor('the simulator to see the relay leave ETH', () => !holdsEth(), 5_000);
  }, 30_000);
});
