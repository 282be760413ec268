/**
 * Issue 5/6 (reliability §5 tests 1 and 2) through the EngineHost and the real Deribit feed: the server
 * drops the connection, then goes silent; the client reconnects and resubscribes, health shows
 * reconnecting/stale in between and connected after, and the figures after recovery equal those of an
 * uninterrupted run (a twin server with the same seed and start, never faulted) at the same sim time.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chainBuilt, expectSameFigures, pauseAligned, post, startRun, waitFor, type Run } from './harness.ts';

const START_MS = Date.UTC(2026, 2, 3, 6, 30, 0);
const SEED = 777;

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
});

/** Connected, with a data message that arrived after `sinceMs`. */
const freshSince = (r: Run, sinceMs: number) => {
  const h = r.host.health()[0];
  return h.state === 'connected' && h.dataAgeMs !== null && h.dataAgeMs < Date.now() - sinceMs;
};

describe('reconnect through the EngineHost', () => {
  it('survives drop and silence, shows it, resubscribes, and recovers to the uninterrupted figures', async () => {
    const faulted = await startRun({ seed: SEED, startMs: START_MS });
    runs.push(faulted);
    const twin = await startRun({ seed: SEED, startMs: START_MS });
    runs.push(twin);
    for (const r of [faulted, twin]) await chainBuilt(r);
    const sessionsBefore = faulted.server.hub.sessions.size;
    expect(sessionsBefore).toBe(1);
    // The full plan: static channels plus one forward ticker per expiry (subscribed after the listing).
    const forwardTickers = (subs: Set<string>) => [...subs].filter((c) => /^ticker\.BTC-\d+[A-Z]{3}\d\d-/.test(c)).length;
    const nExpiries = faulted.results().at(-1)!.expiries.length;
    await waitFor('all channels subscribed', () => forwardTickers([...faulted.server.hub.sessions][0].subs) >= nExpiries, 5_000);
    const channelsBefore = [...[...faulted.server.hub.sessions][0].subs].sort();
    expect(channelsBefore).toContain('markprice.options.btc_usd');
    expect(channelsBefore).toContain('deribit_price_index.btc_usd');

    // 1. Drop: the socket is terminated; the feed reconnects and resubscribes.
    faulted.states.length = 0;
    await post(faulted.server, '/__sim/fault', { kind: 'drop' });
    const droppedAt = Date.now();
    await waitFor('reconnected with fresh data', () => faulted.host.health()[0].reconnects >= 1 && freshSince(faulted, droppedAt), 10_000);
    expect(faulted.states).toContain('reconnecting');
    await waitFor('resubscribed', () => {
      const s = [...faulted.server.hub.sessions];
      return s.length === 1 && [...s[0].subs].sort().join() === channelsBefore.join();
    }, 5_000);

    // 2. Silent: socket open, nothing sent. Stale after 2 s, then the heartbeat watchdog reconnects.
    faulted.states.length = 0;
    const reconnectsBefore = faulted.host.health()[0].reconnects;
    await post(faulted.server, '/__sim/fault', { kind: 'silent' });
    await waitFor('stale', () => faulted.host.health()[0].state === 'stale', 5_000);
    // With one venue the figures keep their last values and say the venue is stale.
    await waitFor('a result naming the stale venue', () =>
      faulted.results().at(-1)!.excludedVenues.some((v) => v.venue === 'deribit' && v.reason.startsWith('stale')), 3_000);
    await waitFor('reconnect after silence', () => faulted.host.health()[0].reconnects > reconnectsBefore, 15_000);
    await post(faulted.server, '/__sim/clear');
    const clearedAt = Date.now();
    await waitFor('recovered', () => freshSince(faulted, clearedAt), 15_000);
    // connected -> stale (data stopped) -> reconnecting (heartbeat timeout) -> ... -> connected
    expect(faulted.states.indexOf('stale')).toBeGreaterThanOrEqual(0);
    expect(faulted.states.lastIndexOf('reconnecting')).toBeGreaterThan(faulted.states.indexOf('stale'));
    expect(faulted.host.health()[0].state).toBe('connected');
    await waitFor('a result including the venue again', () => {
      const last = faulted.results().at(-1)!;
      return last.excludedVenues.length === 0 && last.includedVenues.includes('deribit');
    }, 3_000);

    // 3. Same sim time on both servers (markprice ~1 s, summary every 2 s here), then compare the figures.
    await pauseAligned([faulted, twin]);
    expectSameFigures(faulted.snapshot(), twin.snapshot());
    // The twin never reconnected.
    expect(twin.host.health()[0].reconnects).toBe(0);
  }, 60_000);
});
