/**
 * Issue 6 faults 4 and 6 and "heartbeats only" (reliability §5.1 tests 3, 11, 16) through the real
 * Deribit feed and the EngineHost against the simulator:
 * - `dup` + `reorder`: no double counting, older data never overwrites newer: the figures equal a
 *   twin that never saw the fault, with the faults still on while both are frozen at one instant (so
 *   the 5-s-old frames the server re-sends carry data older than what the host holds).
 * - `heartbeatOnly`: the socket stays up (heartbeats answered, no reconnect) but the venue turns stale
 *   after the data threshold and the result names it with a reason; data back -> connected.
 * - `flood {factor:10}`: ten times the frames; the host still posts at most ~4 results a second, the
 *   results keep up with the simulator's clock, store size and counters stay bounded, heap measured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import {
  chainBuilt, expectSameFigures, pauseAligned, post, resumeAll, sleep, startRun, total, waitFor, type Run,
} from './harness.ts';
import type { Clock } from '../src/feeds/adapter.ts';

const START_MS = Date.UTC(2026, 4, 12, 10, 15, 0);
const SEED = 9001;

/** A real full GC when the runtime lets us expose it (Node: yes, via the V8 flag at run time). */
function gcNow(): boolean {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as (() => void) | undefined;
    if (typeof gc !== 'function') return false;
    gc();
    gc();
    return true;
  } catch {
    return false;
  }
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

let faulted: Run;
const extra: Run[] = [];
let twin: Run;
beforeAll(async () => {
  faulted = await startRun({ seed: SEED, startMs: START_MS });
  twin = await startRun({ seed: SEED, startMs: START_MS });
  await chainBuilt(faulted);
  await chainBuilt(twin);
}, 30_000);
afterAll(async () => {
  await faulted?.close();
  await twin?.close();
  for (const r of extra) await r.close();
});

describe('stream faults through the EngineHost', () => {
  it('dup + reorder: no double counting, older frames never overwrite newer (figures equal the twin)', async () => {
    const before = { ...faulted.host.health()[0].dropped };
    await post(faulted.server, '/__sim/fault', { kind: 'dup' });
    await post(faulted.server, '/__sim/fault', { kind: 'reorder' });
    await sleep(6_000); // the market moves; reorder re-sends a 5 s old frame per channel
    // Freeze both at one instant with the faults still on; wait past another 5-s re-send.
    await pauseAligned([faulted, twin], 6_500);
    const after = faulted.host.health()[0].dropped;
    // The duplicates and the old frames were seen and refused, not applied.
    const refused = (after.staleLine ?? 0) + (after.stale ?? 0) - (before.staleLine ?? 0) - (before.stale ?? 0);
    expect(refused).toBeGreaterThan(50);
    expectSameFigures(faulted.snapshot(), twin.snapshot());
    // Perp quote and spot are the twin's too (no older tick on top).
    expect(faulted.snapshot().perps[0].markPrice).toBe(twin.snapshot().perps[0].markPrice);
    await post(faulted.server, '/__sim/clear');
    await resumeAll([faulted, twin]);
    expect(faulted.host.health()[0].reconnects).toBe(0);
  }, 30_000);

  it('flood x10: results stay at <= ~4 Hz and current, store and counters bounded, heap measured', async () => {
    const store = faulted.stores.at(-1)!;
    const sizeBefore = store.size;
    const haveGc = gcNow();
    const heapBefore = process.memoryUsage().heapUsed;
    await sleep(1_200);
    const rateBefore = faulted.host.health()[0].messagesPerSec;
    const nResultsBefore = faulted.results().length;
    await post(faulted.server, '/__sim/fault', { kind: 'flood', factor: 10 });
    const t0 = Date.now();
    let peakHeap = 0;
    let maxLagMs = 0;
    while (Date.now() - t0 < 8_000) {
      await sleep(250);
      peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
      if (Date.now() - t0 > 1_000) maxLagMs = Math.max(maxLagMs, faulted.server.clock.now() - faulted.lastResult()!.gex.nowMs);
    }
    const h = faulted.host.health()[0];
    const rateDuring = h.messagesPerSec;
    const span = (Date.now() - t0) / 1000;
    const posted = faulted.results().length - nResultsBefore;
    await post(faulted.server, '/__sim/clear');
    await sleep(1_000);
    gcNow();
    const heapAfter = process.memoryUsage().heapUsed;
    const deltaMb = (heapAfter - heapBefore) / 2 ** 20;
    console.log(`[flood x10] msgs/s ${rateBefore} -> ${rateDuring}; results ${posted} in ${span.toFixed(1)} s; max lag ${maxLagMs} ms; store ${sizeBefore} -> ${store.size}; heap ${(heapBefore / 2 ** 20).toFixed(1)} MB -> peak ${(peakHeap / 2 ** 20).toFixed(1)} -> ${(heapAfter / 2 ** 20).toFixed(1)} MB (delta ${deltaMb.toFixed(1)} MB, gc ${haveGc ? 'forced' : 'not available'})`);

    // The flood is real: many times the frame rate.
    expect(rateDuring).toBeGreaterThan(rateBefore * 5);
    // The host coalesces: the recompute ceiling is 250 ms.
    expect(posted).toBeLessThanOrEqual(Math.ceil(span * 4) + 2);
    expect(posted).toBeGreaterThan(span * 2);
    // Results keep up with the venue clock (one throttle period + transport + markprice spacing).
    expect(maxLagMs).toBeLessThan(1_500);
    // Nothing grows: same chain size, a small fixed set of counter names, heap back near the start.
    expect(store.size).toBe(sizeBefore);
    expect(Object.keys(h.dropped).length).toBeLessThanOrEqual(15);
    expect(total(h.dropped)).toBeLessThan(1e6);
    expect(faulted.host.stats.errors).toEqual({});
    if (haveGc) expect(deltaMb).toBeLessThan(20);
    expect(h.state).toBe('connected');
    expect(h.reconnects).toBe(0);
  }, 30_000);
  it('heartbeatOnly: connected but stale after the data threshold, named in the result; recovers', async () => {
    // Its own run on real time: under testClock the OI summary (also data) arrives every 2 s, as often as
    // the 2 s stale threshold; live it is every 30 s against 10 s.
    const quiet = await startRun({ seed: SEED, startMs: START_MS, host: { clock: realClock } });
    extra.push(quiet);
    await chainBuilt(quiet);
    const faulted = quiet;
    await waitFor('fresh', () => faulted.host.health()[0].state === 'connected', 5_000);
    faulted.states.length = 0;
    const sessions = faulted.server.hub.sessions.size;
    const reconnects = faulted.host.health()[0].reconnects;
    await post(faulted.server, '/__sim/fault', { kind: 'heartbeatOnly' });
    const t0 = Date.now();
    await waitFor('stale', () => faulted.host.health()[0].state === 'stale', 5_000);
    const staleAfter = Date.now() - t0;
    // staleAfterMs is 2 s in these runs: not before it, and not much after.
    expect(staleAfter).toBeGreaterThanOrEqual(1_900);
    expect(staleAfter).toBeLessThan(3_500);
    await waitFor('a result naming the stale venue', () =>
      faulted.lastResult()!.excludedVenues.find((v) => v.venue === 'deribit' && v.reason.startsWith('stale')), 3_000);
    // Past 3 heartbeat intervals + the liveness slack (1 s heartbeat -> 7 s): heartbeats keep the socket.
    await sleep(7_500);
    const h = faulted.host.health()[0];
    expect(h.state).toBe('stale');
    expect(h.reconnects).toBe(reconnects);
    expect(faulted.server.hub.sessions.size).toBe(sessions);
    expect(h.dataAgeMs!).toBeGreaterThan(7_000);
    expect(faulted.states).not.toContain('reconnecting');
    await post(faulted.server, '/__sim/clear');
    await waitFor('fresh again', () => faulted.host.health()[0].state === 'connected', 5_000);
    await waitFor('included again', () => {
      const r = faulted.lastResult()!;
      return r.excludedVenues.length === 0 && r.includedVenues.includes('deribit');
    }, 3_000);
  }, 30_000);
});
