/**
 * Issue 6 faults 5 and 7 (reliability §5.1 tests 6 and 15) through the real Deribit feed and the
 * EngineHost against the simulator:
 * - `error10028`: the venue answers a subscribe with too_many_requests and ends the session; health
 *   shows the venue error, and the next dial is scheduled >= 10 s later (the wait itself is compressed
 *   by the injected clock, which records the delay the feed asked for).
 * - `expireAt`: the front expiry passes 08:00 UTC mid-session: its lines leave the sums at once, the
 *   expiry list (request {kind:'expiries'}) drops it, a selection that named it gets `expiredSelected`
 *   and falls back to the next expiry (an expiryFallback event), and a reconnect does not resubscribe it.
 */
import { afterAll, describe, expect, it } from 'vitest';
import {
  btcSelection, chainBuilt, post, realClock, settled, startRun, staysFor, waitFor, type Run,
} from './harness.ts';
import { expiryLabel } from '../src/worker/host.ts';
import { RATE_LIMIT_FLOOR_MS, RATE_LIMIT_JITTER_MS } from '../src/feeds/deribit/limits.ts';
import type { Clock } from '../src/feeds/adapter.ts';
import type { FromWorker } from '../src/worker/protocol.ts';

const runs: Run[] = [];
afterAll(async () => {
  for (const r of runs) await r.close();
});

const notices = (r: Run) => r.posted.filter((m): m is Extract<FromWorker, { type: 'notice' }> => m.type === 'notice');

describe('venue errors and expiries through the EngineHost', () => {
  it('error10028: shown as a venue error; the next connect is scheduled >= 10 s later; subscribes spaced', async () => {
    // random 0.5 -> the rate-limit wait is exactly floor + jitter/2; that one timer runs 12.5x faster.
    const rateLimitWait = RATE_LIMIT_FLOOR_MS + RATE_LIMIT_JITTER_MS / 2;
    const asked: number[] = [];
    const clock: Clock = {
      now: realClock.now,
      setTimeout: (fn, ms) => {
        asked.push(ms);
        return realClock.setTimeout(fn, ms === rateLimitWait ? 1_000 : ms);
      },
      clearTimeout: realClock.clearTimeout,
    };
    const r = await startRun({
      seed: 31, startMs: Date.UTC(2026, 5, 2, 16, 0, 0), host: { clock, feedOptions: { heartbeatSec: 1, random: () => 0.5 } },
    });
    runs.push(r);
    await chainBuilt(r);
    await post(r.server, '/__sim/fault', { kind: 'error10028' });
    await post(r.server, '/__sim/fault', { kind: 'drop' }); // the reconnect's subscribe meets the 10028
    const rl = await waitFor('the venue error in health', () => {
      const h = r.host.health()[0];
      return h.lastError && /rate limited by venue/.test(h.lastError) && /too_many_requests/.test(h.lastError) ? h : null;
    }, 10_000);
    const seenAt = Date.now();
    console.log(`[10028] health.lastError: ${rl.lastError}; retry in ${rl.retryAtMs! - seenAt} ms`);
    // Shown: the health line and a warning notice naming the code.
    expect(rl.state).toBe('reconnecting');
    expect(notices(r).some((n) => n.level === 'warn' && n.message.includes('10028') && /too_many_requests/.test(n.message))).toBe(true);
    // Retried after the advised delay: >= the 10 s floor.
    expect(asked.filter((ms) => ms === rateLimitWait).length).toBe(1);
    expect(rl.retryAtMs! - seenAt).toBeGreaterThanOrEqual(RATE_LIMIT_FLOOR_MS - 200);
    // The venue ended the rejected session; the feed does not dial again before the (compressed) wait
    // is over. Judged from the server's request log, not from a poll of the live session set, which
    // races the close handshake and the 1 s compressed wait on a loaded machine.
    const log = r.server.hub.requestLog;
    const rejectedId = Math.max(...log.map((x) => x.sessionId));
    const rejectedLastAt = Math.max(...log.filter((x) => x.sessionId === rejectedId).map((x) => x.at));
    await waitFor('reconnected', () => r.server.hub.sessions.size === 1 && r.host.health()[0].state === 'connected', 8_000);
    const sid = [...r.server.hub.sessions][0].stats.id;
    expect(sid).toBeGreaterThan(rejectedId);
    const firstAt = Math.min(...log.filter((x) => x.sessionId === sid).map((x) => x.at));
    expect(firstAt - rejectedLastAt).toBeGreaterThanOrEqual(900);
    // the drop, then the 10028 session: the client's own restart and the venue's close race, and the one
    // that loses is a stale socket's (ignored), so the count is 2 or, when the restart wins, still 1
    expect(r.host.health()[0].reconnects).toBeGreaterThanOrEqual(1);
    expect(r.host.health()[0].reconnects).toBeLessThanOrEqual(2);
    // Subscribe calls of the new session are spaced >= 1/3 s: every one of them, once the burst is over.
    const subsOf = () => r.server.hub.requestLog.filter((x) => x.sessionId === sid && x.method === 'public/subscribe').map((x) => x.at);
    await waitFor('the new session subscribing', () => subsOf().length > 0, 5_000);
    const subs = await settled('the subscribe calls', subsOf, 1_000);
    expect(subs.length).toBeGreaterThanOrEqual(1);
    for (let i = 1; i < subs.length; i++) expect(subs[i] - subs[i - 1]).toBeGreaterThanOrEqual(300);
  }, 30_000);

  it('expireAt: the passed expiry leaves the sums at once, the list updates, a selection naming it is told', async () => {
    const r = await startRun({ seed: 5150, startMs: Date.UTC(2026, 5, 10, 7, 59, 20) });
    runs.push(r);
    await chainBuilt(r);
    const E = Date.UTC(2026, 5, 10, 8, 0, 0);
    const code = `-${expiryLabel(E)}-`;
    const before = r.lastResult()!;
    expect(before.expiries.map((x) => x.expiryMs)).toContain(E);
    // 40 s before 08:00 E's lines are expiring: listed, counted apart, not in the sums (design: "Expiring lines")
    expect(Array.from(before.gex.expiries)).not.toContain(E);
    const linesE = before.expiries.find((x) => x.expiryMs === E)!.lines;
    expect(linesE).toBeGreaterThan(10);
    expect(before.gex.expiring.lines).toBeGreaterThan(10);
    await waitFor('E forward ticker subscribed', () => [...[...r.server.hub.sessions][0].subs].some((c) => c.includes(code)), 5_000);

    // A view of E alone (as a shared link would select it).
    r.host.handle({ type: 'select', selection: { ...btcSelection, expiries: [E] } });
    const onlyE = await waitFor('a result for E alone', () => {
      const m = r.lastResult()!;
      return m.selection.expiries.length === 1 && m.gex.expiring.lines > 0 ? m : null;
    }, 3_000);
    expect(onlyE.gex.includedLines).toBe(0);
    expect(onlyE.gex.expiring.pinStrike).not.toBeNull();
    expect(onlyE.expiredSelected).toEqual([]);

    const n = r.posted.length;
    const t0 = Date.now();
    const f = await post(r.server, '/__sim/fault', { kind: 'expireAt' });
    expect(f.simTimeMs).toBeGreaterThanOrEqual(E);
    const after = await waitFor('a result after the expiry', () =>
      r.posted.slice(n).find((m): m is Extract<FromWorker, { type: 'result' }> => m.type === 'result' && m.gex.nowMs >= E), 3_000);
    // At once: within one recompute period and the transport.
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(after.expiredSelected).toEqual([E]);
    expect(after.expiries.map((x) => x.expiryMs)).not.toContain(E);
    // Falls back to the next listed expiry (not an empty chart, not all of them), and says so.
    expect(Array.from(after.gex.expiries)).toEqual([after.expiries[0].expiryMs]);
    expect(after.gex.includedLines).toBeGreaterThan(10);
    // said once as a typed event (the page mirrors it into the link and a notice)
    await waitFor('the expiry fallback', () => r.posted.find((m) => m.type === 'expiryFallback' && m.gone.some((g) => g.expiryMs === E && g.why === 'expired')), 1_000);

    // The expiry list request drops it too.
    r.host.handle({ type: 'request', id: 77, request: { kind: 'expiries', venues: ['deribit'], currency: 'BTC' } });
    const resp = r.posted.find((m) => m.type === 'response' && m.id === 77) as Extract<FromWorker, { type: 'response'; ok: true; kind: 'expiries' }>;
    const list = resp.data;
    expect(list.map((x) => x.expiryMs)).not.toContain(E);
    expect(list.length).toBeGreaterThanOrEqual(before.expiries.length - 1);
    expect(list.every((x) => x.expiryMs > E)).toBe(true);

    // All expiries: E's lines are out of the sums.
    r.host.handle({ type: 'select', selection: btcSelection });
    const all = await waitFor('a result over all expiries', () => {
      const m = r.lastResult()!;
      return m.selection.expiries.length === 0 && m.gex.nowMs >= E ? m : null;
    }, 3_000);
    expect(Array.from(all.gex.expiries)).not.toContain(E);
    // Every expiry in the sums is a listed one (a daily listed at 08:00 joins once its OI arrives).
    const listed = new Set(all.expiries.map((x) => x.expiryMs));
    expect(all.gex.expiries.length).toBeGreaterThanOrEqual(before.gex.expiries.length - 1);
    expect(Array.from(all.gex.expiries).every((x) => listed.has(x))).toBe(true);

    // A reconnect after 08:00 subscribes nothing of E.
    const reconnects = r.host.health()[0].reconnects;
    await post(r.server, '/__sim/fault', { kind: 'drop' });
    await waitFor('reconnected', () => r.host.health()[0].reconnects > reconnects && r.host.health()[0].state === 'connected' && r.server.hub.sessions.size === 1, 10_000);
    // the reconnect's subscriptions are in (forwards come last): none of them is E's
    await waitFor('resubscribed', () => [...[...r.server.hub.sessions][0].subs].some((c) => c.startsWith('ticker.BTC-')), 5_000);
    await staysFor('nothing of E subscribed', () => ![...[...r.server.hub.sessions][0].subs].some((c) => c.includes(code)), 1_000);
    const subs = [...[...r.server.hub.sessions][0].subs];
    expect(subs.some((c) => c.startsWith('ticker.BTC-'))).toBe(true);
    expect(subs.filter((c) => c.includes(code))).toEqual([]);
    expect(r.host.stats.errors).toEqual({});
  }, 30_000);
});
