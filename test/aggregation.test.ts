/**
 * Issue 4 aggregation: through the EngineHost, OKX and Bybit (real clients against the local simulator)
 * sum to the combined view exactly — per strike where strikes coincide, strikes of one venue only kept
 * as they are (never interpolated) — and a venue that goes down is left out of the totals with a
 * visible reason in `excludedVenues`.
 *
 * Timing on a loaded 2-core machine: after the freeze the test waits until both chain stores hold the
 * frozen instant (every line's IV, forward and OI from updates stamped at it: harness RecordingStore)
 * instead of sleeping, and the figures without the silent venue are checked against OKX alone at that
 * result's own spot and valuation time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server/server.ts';
import { EngineHost } from '../src/worker/host.ts';
import { computeGex } from '../src/engine/index.ts';
import type { Clock } from '../src/feeds/adapter.ts';
import type { VenueId } from '../src/chain/model.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage, type ViewSelection } from '../src/worker/protocol.ts';
import { RecordingStore, freeze, frozenStep, waitFor, wsFactory } from './harness.ts';

/** Now: the clients drop expiries before their own (wall) clock, so the simulated market starts now. */
const START_MS = Math.floor(Date.now() / 1000) * 1000;
const clock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

describe('cross-venue aggregation through the EngineHost', () => {
  let server: RunningServer;
  let host: EngineHost;
  const posted: FromWorker[] = [];
  const stores = new Map<VenueId, RecordingStore>();
  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: 99, port: 0, startMs: START_MS, log: () => undefined });
  });
  afterAll(async () => {
    host?.dispose();
    await server?.close();
  });

  it('two venues sum exactly to the combined view; a silent venue is excluded with a reason', async () => {
    const base = server.url.replace(/^http/, 'ws');
    host = new EngineHost({
      clock,
      socketFactory: wsFactory,
      localBase: base,
      post: (m) => posted.push(m),
      staleAfterMs: 2_000,
      createStore: (v, c) => {
        const s = new RecordingStore(v, c);
        stores.set(v, s);
        return s;
      },
    });
    const results = () => posted.filter((m): m is ResultMessage => m.type === 'result');
    const ackAll = () => {
      const r = results();
      if (r.length > 0) host.handle({ type: 'ack', seq: r[r.length - 1].seq });
    };
    const sel: ViewSelection = { source: 'sim', venues: ['okx', 'bybit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };
    host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
    host.handle({ type: 'select', selection: sel });
    // both venues in, with OI on their lines (OKX OI arrives every 3 s)
    await waitFor('both venues with OI', () => {
      ackAll();
      const r = results().at(-1);
      return r && r.includedVenues.length === 2 && [...stores.values()].every((s) => {
        const c = s.columns();
        let oi = 0;
        for (let i = 0; i < c.length; i++) if (Number.isFinite(c.openInterest[i])) oi++;
        return oi > 0.9 * c.length && c.length > 50;
      });
    }, 15_000);

    // Freeze one step past the clock: only frames sent after the freeze carry the frozen instant.
    const step = frozenStep(server, await freeze([server]));
    // one expiry both venues list
    const okxExp = new Set(stores.get('okx')!.expiries().map((x) => x.expiryMs));
    const common = stores.get('bybit')!.expiries().map((x) => x.expiryMs).filter((e) => okxExp.has(e) && e > Date.now() + 86_400_000);
    expect(common.length).toBeGreaterThan(0);
    const expiry = common[0];
    await waitFor('both stores to hold the frozen instant', () => [...stores.values()].every((s) => s.heldSince(step)), 20_000);
    host.handle({ type: 'select', selection: { ...sel, expiries: [expiry] } });

    host.handle({ type: 'request', id: 1, request: { kind: 'snapshot' } });
    const resp = posted.find((m) => m.type === 'response' && m.id === 1) as Extract<FromWorker, { type: 'response'; ok: true }>;
    const snap = resp.data as ResultMessage;
    expect(snap.includedVenues).toEqual(['okx', 'bybit']);
    expect(snap.excludedVenues).toEqual([]);
    expect(snap.gex.nowMs).toBeGreaterThanOrEqual(step);
    const params = { spot: snap.gex.spot, nowMs: snap.gex.nowMs, model: 'classic' as const, expiries: new Set([expiry]), profileRange: 0.2 };
    const okx = computeGex(stores.get('okx')!.columns(), params);
    const bybit = computeGex(stores.get('bybit')!.columns(), params);
    const all = snap.gex;
    expect(okx.includedLines).toBeGreaterThan(20);
    expect(bybit.includedLines).toBeGreaterThan(20);
    expect(all.includedLines).toBe(okx.includedLines + bybit.includedLines);

    // the combined strikes are exactly the union: nothing interpolated, nothing lost
    const union = [...new Set([...okx.strikes, ...bybit.strikes])].sort((a, b) => a - b);
    expect([...all.strikes]).toEqual(union);
    const at = (r: typeof okx, k: number, f: 'callGex' | 'putGex') => {
      const i = r.strikes.indexOf(k);
      return i < 0 ? null : r[f][i];
    };
    let shared = 0;
    let only = 0;
    for (let i = 0; i < all.strikes.length; i++) {
      const k = all.strikes[i];
      for (const f of ['callGex', 'putGex'] as const) {
        const a = at(okx, k, f);
        const b = at(bybit, k, f);
        // one expiry: Bybit has one line per strike and side, OKX one per option family (coin- and
        // USD-margined), so the sum is two or three additions, equal to the last bits of their order
        const want = (a ?? 0) + (b ?? 0);
        expect(Math.abs(all[f][i] - want)).toBeLessThanOrEqual(1e-12 * Math.abs(want));
      }
      if (at(okx, k, 'callGex') !== null && at(bybit, k, 'callGex') !== null) shared++;
      else only++;
    }
    expect(shared).toBeGreaterThan(10);
    expect(only).toBeGreaterThan(0); // strikes listed by one venue only are kept as they are
    expect(all.totalNetGex).toBeCloseTo(okx.totalNetGex + bybit.totalNetGex, 6);
    expect(Math.abs(all.totalNetGex - okx.totalNetGex - bybit.totalNetGex)).toBeLessThanOrEqual(1e-9 * Math.abs(okx.totalNetGex) + 1e-6);

    // Bybit goes silent: it is left out of the totals, with the reason shown
    await fetch(`${server.url}/__sim/fault`, { method: 'POST', body: JSON.stringify({ kind: 'silent', venue: 'bybit' }) });
    const excluded = await waitFor('bybit excluded', () => {
      ackAll();
      const r = results().at(-1);
      return r && r.includedVenues.length === 1 && r.excludedVenues.length === 1 ? r : null;
    }, 10_000);
    expect(excluded.includedVenues).toEqual(['okx']);
    expect(excluded.excludedVenues[0].venue).toBe('bybit');
    expect(excluded.excludedVenues[0].reason).toMatch(/stale|down|reconnecting/);
    // The market is frozen and the OKX store holds that instant: the figures are OKX alone, at the
    // valuation time of the snapshot (and the spot the result itself used).
    expect(excluded.gex.nowMs).toBe(snap.gex.nowMs);
    const okxAlone = computeGex(stores.get('okx')!.columns(), { ...params, spot: excluded.gex.spot, nowMs: excluded.gex.nowMs });
    expect([...excluded.gex.strikes]).toEqual([...okx.strikes]);
    expect([...okxAlone.strikes]).toEqual([...okx.strikes]);
    expect([...excluded.gex.netGex]).toEqual([...okxAlone.netGex]);
    expect(excluded.gex.includedLines).toBe(okxAlone.includedLines);
    await fetch(`${server.url}/__sim/clear`, { method: 'POST' });
  }, 40_000);
});
