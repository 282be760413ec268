/**
 * Issue 6 fault 3 (reliability §5.1 tests 12, 13, 14): malformed frames, absurd numbers and a 10 MB
 * frame from the venue, through the real Deribit feed and the EngineHost. Each is dropped and counted
 * by reason in FeedHealth, nothing is thrown (no handler error, no engine-failure notice), and the
 * figures (zero gamma, net GEX by strike) equal those of a twin run that never saw the fault.
 *
 * Both simulators are frozen at the same instant first, so the twin's figures are the reference for
 * the whole test; a bad value then cannot be hidden by the market moving on, and a line whose update
 * is dropped must keep exactly the good value of that instant.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  chainBuilt, expectSameFigures, pauseAligned, post, sleep, startRun, total, waitFor, type Run,
} from './harness.ts';
import type { FromWorker, ResultMessage } from '../src/worker/protocol.ts';

const START_MS = Date.UTC(2026, 3, 8, 14, 0, 0);
const SEED = 4242;

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
});

const dropped = (r: Run) => r.host.health()[0].dropped;
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

    await pauseAligned([faulted, twin]);
    const ref = twin.snapshot();
    expectSameFigures(faulted.snapshot(), ref);
    const base = { ...dropped(faulted) };
    const reconnects = faulted.host.health()[0].reconnects;
    const sim = faulted.server.simSource!;

    // malformed: truncated JSON, {}, [], null, a binary frame, unknown method, string data, unknown channel.
    await post(faulted.server, '/__sim/fault', { kind: 'malformed' });
    await waitFor('every malformed kind sent', () => sim.injected.malformed >= 9, 8_000);
    await post(faulted.server, '/__sim/clear');
    await sleep(300);
    const afterMalformed = dropped(faulted);
    expect(afterMalformed.malformed ?? 0).toBeGreaterThan(base.malformed ?? 0);
    expect(afterMalformed.unknownChannel ?? 0).toBeGreaterThan(base.unknownChannel ?? 0);
    // Every injected frame was dropped (one counter each; the rest of the stream is clean).
    expect(total(afterMalformed) - total(base)).toBeGreaterThanOrEqual(sim.injected.malformed);
    expectSameFigures(faulted.snapshot(), ref);

    // badNumbers: tickers/markprice with iv 1e9, "NaN", -5, OI -1 and 1e400, underlying 0, +1 h stamps;
    // summary rows with the same; kept long enough for two summary refreshes.
    const bnBase = { ...dropped(faulted) };
    await post(faulted.server, '/__sim/fault', { kind: 'badNumbers' });
    await sleep(4_500);
    const duringBad = faulted.snapshot();
    expect(allFinite(duringBad)).toBe(true);
    expectSameFigures(duringBad, ref);
    // And a reconnect while it is on: the instrument list now carries strike 0 and 1e12 instruments.
    await post(faulted.server, '/__sim/fault', { kind: 'drop' });
    await waitFor('reconnected', () => faulted.host.health()[0].reconnects > reconnects && faulted.host.health()[0].state === 'connected', 10_000);
    await sleep(4_500);
    await post(faulted.server, '/__sim/clear');
    const afterBad = dropped(faulted);
    expect((afterBad.badNumber ?? 0) - (bnBase.badNumber ?? 0)).toBeGreaterThanOrEqual(10);
    expect((afterBad.futureTimestamp ?? 0) - (bnBase.futureTimestamp ?? 0)).toBeGreaterThan(0);
    const withBadInstruments = faulted.snapshot();
    expect(allFinite(withBadInstruments)).toBe(true);
    expect(withBadInstruments.gex.strikes.every((k) => k > 0 && k < 1e9)).toBe(true);
    expectSameFigures(withBadInstruments, ref);

    // oversize: one 10 MB frame, dropped by its length before parsing.
    const osBase = { ...dropped(faulted) };
    const r = await post(faulted.server, '/__sim/fault', { kind: 'oversize' });
    expect(r.sent).toBe(1);
    await waitFor('oversize counted', () => (dropped(faulted).oversize ?? 0) > (osBase.oversize ?? 0), 5_000);
    expect((dropped(faulted).oversize ?? 0) - (osBase.oversize ?? 0)).toBe(1);
    await sleep(500);
    expect(faulted.host.health()[0].state).toBe('connected');

    // Nothing thrown anywhere on the path: no handler errors, no engine-failure notices.
    expect(faulted.host.stats.errors).toEqual({});
    expect(dropped(faulted).handlerError).toBeUndefined();
    expect(noticesOf(faulted).filter((n) => n.level === 'error')).toEqual([]);
    expect(faulted.results().every(allFinite)).toBe(true);
    expectSameFigures(faulted.snapshot(), ref);
    // One reconnect: the drop we asked for; the bad frames never cost the connection.
    expect(faulted.host.health()[0].reconnects).toBe(reconnects + 1);
    expect(twin.host.health()[0].reconnects).toBe(0);
  }, 60_000);
});
