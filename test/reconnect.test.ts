/**
 * Issue 5/6 (reliability §5 tests 1 and 2) through the EngineHost and the real Deribit feed: the server
 * drops the connection, then goes silent; the client reconnects and resubscribes, health shows
 * reconnecting/stale in between and connected after, and the figures after recovery equal those of an
 * uninterrupted run (a twin server with the same seed and start, never faulted) at the same sim time.
 *
 * Timing on a loaded 2-core machine: sessions are counted from the server's request log (not the live
 * session set at one instant); the feed's backoff jitter is fixed (random 0.5), so each reconnecting
 * phase lasts at least 500 ms and the harness's 20 ms state sampler, whose timer falls due before the
 * reconnect timer, always records it; after the freeze the figures are compared once both hosts have
 * asked for the book summary after it and agree, then again after a further summary round, instead of
 * after a fixed sleep. Timeouts are generous: they bound waits, they are not what the test measures.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { chainBuilt, expectSameFigures, pauseAligned, post, startRun, waitFor, type Run } from './harness.ts';
import { livenessTimeoutMs } from '../src/feeds/deribit/limits.ts';

const START_MS = Date.UTC(2026, 2, 3, 6, 30, 0);
const SEED = 777;
const SUMMARY = 'public/get_book_summary_by_currency';

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
});

/** Connected, with a data message that arrived after `sinceMs`. */
const freshSince = (r: Run, sinceMs: number) => {
  const h = r.host.health()[0];
  return h.state === 'connected' && h.dataAgeMs !== null && h.dataAgeMs < Date.now() - sinceMs;
};

/** Sessions that said hello, from the server's request log. */
const helloSessions = (r: Run) => new Set(r.server.hub.requestLog.filter((x) => x.method === 'public/hello').map((x) => x.sessionId));

/** Each run's server logged a book-summary request (OI) after wall time `afterMs`. */
const summaryAskedAfter = (rs: Run[], afterMs: number) =>
  rs.every((r) => r.server.hub.requestLog.some((x) => x.method === SUMMARY && x.at > afterMs));

const sameFigures = (a: Run, b: Run): boolean => {
  try {
    expectSameFigures(a.snapshot(), b.snapshot());
    return true;
  } catch {
    return false;
  }
};

describe('reconnect through the EngineHost', () => {
  it('survives drop and silence, shows it, resubscribes, and recovers to the uninterrupted figures', async () => {
    // random 0.5: the reconnect waits are exactly half their backoff ceilings (500 ms, then 1 s).
    const faulted = await startRun({ seed: SEED, startMs: START_MS, host: { feedOptions: { heartbeatSec: 1, random: () => 0.5 } } });
    runs.push(faulted);
    const twin = await startRun({ seed: SEED, startMs: START_MS });
    runs.push(twin);
    for (const r of [faulted, twin]) await chainBuilt(r);
    // One session so far, whatever the live set holds at this instant.
    expect(helloSessions(faulted).size).toBe(1);
    // The full plan: static channels plus one forward ticker per expiry (subscribed after the listing).
    const forwardTickers = (subs: Set<string>) => [...subs].filter((c) => /^ticker\.BTC-\d+[A-Z]{3}\d\d-/.test(c)).length;
    const nExpiries = faulted.results().at(-1)!.expiries.length;
    await waitFor('all channels subscribed', () => {
      const s = [...faulted.server.hub.sessions];
      return s.length === 1 && forwardTickers(s[0].subs) >= nExpiries;
    }, 10_000);
    const channelsBefore = [...[...faulted.server.hub.sessions][0].subs].sort();
    expect(channelsBefore).toContain('markprice.options.btc_usd');
    expect(channelsBefore).toContain('deribit_price_index.btc_usd');

    // 1. Drop: the socket is terminated; the feed reconnects and resubscribes.
    faulted.states.length = 0;
    await post(faulted.server, '/__sim/fault', { kind: 'drop' });
    const droppedAt = Date.now();
    await waitFor('reconnected with fresh data', () => faulted.host.health()[0].reconnects >= 1 && freshSince(faulted, droppedAt), 15_000);
    expect(faulted.states).toContain('reconnecting');
    expect(faulted.host.health()[0].lastError).toContain('connection closed (1006');
    expect(helloSessions(faulted).size).toBe(2);
    await waitFor('resubscribed', () => {
      const s = [...faulted.server.hub.sessions];
      return s.length === 1 && [...s[0].subs].sort().join() === channelsBefore.join();
    }, 10_000);

    // 2. Silent: socket open, nothing sent. Stale after 2 s, then the heartbeat watchdog reconnects.
    faulted.states.length = 0;
    const reconnectsBefore = faulted.host.health()[0].reconnects;
    await post(faulted.server, '/__sim/fault', { kind: 'silent' });
    await waitFor('stale', () => faulted.host.health()[0].state === 'stale', 10_000);
    // With one venue the figures keep their last values and say the venue is stale.
    await waitFor('a result naming the stale venue', () =>
      faulted.results().at(-1)!.excludedVenues.some((v) => v.venue === 'deribit' && v.reason.startsWith('stale')), 5_000);
    await waitFor('reconnect after silence', () => faulted.host.health()[0].reconnects > reconnectsBefore, 20_000);
    // Not even a heartbeat for 2 x 1 s + 5 s: the socket is dead.
    expect(faulted.host.health()[0].lastError).toContain(`deribit: no frame for ${livenessTimeoutMs(1)} ms`);
    await post(faulted.server, '/__sim/clear');
    const clearedAt = Date.now();
    await waitFor('recovered', () => freshSince(faulted, clearedAt), 20_000);
    // connected -> stale (data stopped) -> reconnecting (no heartbeat) -> ... -> connected
    expect(faulted.states.indexOf('stale')).toBeGreaterThanOrEqual(0);
    expect(faulted.states.lastIndexOf('reconnecting')).toBeGreaterThan(faulted.states.indexOf('stale'));
    await waitFor('a result including the venue again', () => {
      const last = faulted.results().at(-1)!;
      return last.excludedVenues.length === 0 && last.includedVenues.includes('deribit');
    }, 5_000);

    // 3. Same sim time on both servers, then compare the figures once both hosts hold that instant:
    // each asked for the summary (OI) after the freeze and they agree; and still after another round.
    await pauseAligned([faulted, twin], 0);
    const frozenAt = Date.now();
    await waitFor('a summary request after the freeze on both servers', () => summaryAskedAfter([faulted, twin], frozenAt), 15_000);
    await waitFor('the same figures as the twin', () => sameFigures(faulted, twin), 15_000);
    // Two more summary requests on each server (2 s apart): the first one's answer has landed.
    const agreedAt = Date.now();
    await waitFor('another summary round on both servers', () => [faulted, twin].every((r) =>
      r.server.hub.requestLog.filter((x) => x.method === SUMMARY && x.at > agreedAt).length >= 2), 15_000);
    expectSameFigures(faulted.snapshot(), twin.snapshot());
    // The twin never reconnected.
    expect(twin.host.health()[0].reconnects).toBe(0);
    expect(helloSessions(twin).size).toBe(1);
  }, 90_000);
});
