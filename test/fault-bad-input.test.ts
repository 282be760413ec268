/**
 * Issue 6 fault 3 (reliability §5.1 tests 12, 13, 14): malformed frames, absurd numbers and a 10 MB
 * frame from the venue, through the real Deribit feed and the EngineHost. Each is dropped and counted
 * by reason in FeedHealth, nothing is thrown (no handler error, no engine-failure notice), and the
 * figures (zero gamma, net GEX by strike) equal those of a twin run that never saw the fault.
 *
 * Both simulators are frozen at the same instant first, so the twin's figures are the reference for
 * the whole test; a bad value then cannot be hidden by the market moving on, and a line whose update
 * is dropped must keep exactly the good value of that instant.
 *
 * Timing on a loaded 2-core machine: no fixed sleeps. The freeze waits until both hosts hold the
 * frozen instant (harness `waitSettled`); each fault phase waits until the host has counted what the
 * server sent (by reason), e.g. two book-summary answers with bad rows (`badOpenInterest`, 2 rows per
 * answer); sessions come from the server's request log.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  chainBuilt, expectSameFigures, frozenStep, helloSessions, pauseAligned, post, startRun, total, waitFor, type Run,
} from './harness.ts';
import type { FromWorker, ResultMessage } from '../src/worker/protocol.ts';

const START_MS = Date.UTC(2026, 3, 8, 14, 0, 0);
const SEED = 4242;

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
});

const dropped = (r: Run) => r.host.health()[0].dropped;
/** How much counter `reason` rose since `base`. */
const rose = (r: Run, base: Record<string, number>, reason: string) => (dropped(r)[reason] ?? 0) - (base[reason] ?? 0);
const noticesOf = (r: Run) => r.posted.filter((m): m is Extract<FromWorker, { type: 'notice' }> => m.type === 'notice');
/** No NaN/Infinity anywhere a chart or a level reads from. */
function allFinite(m: ResultMessage): boolean {
  const g = m.gex;
  const arrays = [g.strikes, g.callGex, g.putGex, g.netGex, g.profileSpots, g.profileNetGex, g.netGexByExpiry];
  if (!arrays.every((a) => a.every((x) => Number.isFinite(x)))) return false;
  return [g.spot, g.totalNetGex, g.totalCallGex, g.totalPutGex].every(Number.isFinite)
    && (g.zeroGammaLevel === null || Number.isFinite(g.zeroGammaLevel));
}

describe('bad input from the venue (malformed, badNumbers, oversize)', () => {
  it('drops and counts each by reason, throws nothing, and keeps the figures of the fault-free twin', async () => {
    const faulted = await startRun({ seed: SEED, startMs: START_MS });
    runs.push(faulted);
    const twin = await startRun({ seed: SEED, startMs: START_MS });
    runs.push(twin);
    await chainBuilt(faulted);
    await chainBuilt(twin);

    // Frozen one step past both clocks; returns once both hosts hold that instant and posted it.
    const step = frozenStep(faulted.server, await pauseAligned([faulted, twin]));
    const ref = twin.snapshot();
    expect(ref.gex.nowMs).toBe(step);
    expectSameFigures(faulted.snapshot(), ref);
    const base = { ...dropped(faulted) };
    const reconnects = faulted.host.health()[0].reconnects;
    const hub = faulted.server.hub;
    const store = faulted.stores.at(-1)!;

    // malformed: truncated JSON, {}, [], null, a binary frame, unknown method, string data, unknown channel.
    await post(faulted.server, '/__sim/fault', { kind: 'malformed' });
    await waitFor('every malformed kind sent', () => hub.injected.malformed >= 9, 15_000);
    await post(faulted.server, '/__sim/clear');
    const injected = hub.injected.malformed; // final: nothing is injected after the clear
    // Every injected frame was dropped (one counter each; the rest of the stream is clean).
    await waitFor('every injected frame counted', () => total(dropped(faulted)) - total(base) >= injected, 10_000);
    const afterMalformed = dropped(faulted);
    expect(afterMalformed.malformed ?? 0).toBeGreaterThan(base.malformed ?? 0);
    expect(afterMalformed.unknownChannel ?? 0).toBeGreaterThan(base.unknownChannel ?? 0);
    expect(total(afterMalformed) - total(base)).toBeGreaterThanOrEqual(injected);
    expectSameFigures(faulted.snapshot(), ref);

    // badNumbers: tickers/markprice with iv 1e9, "NaN", -5, OI -1 and 1e400, underlying 0, +1 h stamps;
    // summary rows with the same; kept on until two summary answers were refused row by row.
    const bnBase = { ...dropped(faulted) };
    await post(faulted.server, '/__sim/fault', { kind: 'badNumbers' });
    await waitFor('two bad summaries and bad frames counted by reason', () =>
      rose(faulted, bnBase, 'badOpenInterest') >= 4 && rose(faulted, bnBase, 'badNumber') >= 10
      && rose(faulted, bnBase, 'futureTimestamp') > 0, 20_000);
    const duringBad = faulted.snapshot();
    expect(allFinite(duringBad)).toBe(true);
    expectSameFigures(duringBad, ref);
    // And a reconnect while it is on: the instrument list now carries strike 0 and 1e12 instruments.
    await post(faulted.server, '/__sim/fault', { kind: 'drop' });
    await waitFor('reconnected', () => faulted.host.health()[0].reconnects > reconnects && faulted.host.health()[0].state === 'connected', 15_000);
    // The new session asks for the instrument list, then the summary; answered in order on one socket,
    // so a bad summary counted from now on means the bad list before it was handled too.
    const reBase = { ...dropped(faulted) };
    await waitFor('the new session\'s instrument list and bad summary handled', () => rose(faulted, reBase, 'badOpenInterest') >= 2, 15_000);
    await post(faulted.server, '/__sim/clear');
    expect(helloSessions(faulted).size).toBe(2);
    expect(rose(faulted, bnBase, 'badNumber')).toBeGreaterThanOrEqual(10);
    expect(rose(faulted, bnBase, 'futureTimestamp')).toBeGreaterThan(0);
    const withBadInstruments = faulted.snapshot();
    expect(allFinite(withBadInstruments)).toBe(true);
    expect(withBadInstruments.gex.strikes.every((k) => k > 0 && k < 1e9)).toBe(true);
    expectSameFigures(withBadInstruments, ref);

    // oversize: one 10 MB frame, dropped by its length before parsing.
    const osBase = { ...dropped(faulted) };
    const r = await post(faulted.server, '/__sim/fault', { kind: 'oversize' });
    expect(r.sent).toBe(1);
    await waitFor('oversize counted', () => rose(faulted, osBase, 'oversize') > 0, 10_000);
    const countedAt = Date.now();
    expect(rose(faulted, osBase, 'oversize')).toBe(1);
    // The stream carries on over the same connection: frames after it are applied, no new session.
    await waitFor('data applied after the oversize frame', () => store.applies.some((a) => a.atMs > countedAt && a.applied > 0), 10_000);
    expect(faulted.host.health()[0].state).toBe('connected');
    expect(helloSessions(faulted).size).toBe(2);

    // Nothing thrown anywhere on the path: no handler errors, no engine-failure notices.
    expect(faulted.host.stats.errors).toEqual({});
    expect(dropped(faulted).handlerError).toBeUndefined();
    expect(noticesOf(faulted).filter((n) => n.level === 'error')).toEqual([]);
    expect(faulted.results().every(allFinite)).toBe(true);
    expectSameFigures(faulted.snapshot(), ref);
    // One reconnect: the drop we asked for; the bad frames never cost the connection.
    expect(faulted.host.health()[0].reconnects).toBe(reconnects + 1);
    expect(twin.host.health()[0].reconnects).toBe(0);
    expect(helloSessions(twin).size).toBe(1);
  }, 90_000);
});
