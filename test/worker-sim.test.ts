/**
 * Issue 5 integration: the EngineHost builds the chain through the real Deribit feed against the local
 * simulator; with the simulator paused, its zero gamma and by-strike exposure equal the CLI's on a
 * snapshot (public/get_instruments + public/get_book_summary_by_currency) taken from the same server at
 * the same instant.
 *
 * Timing on a loaded 2-core machine: after the freeze the test waits until the host's store holds the
 * frozen instant (every line's IV, forward and OI from updates stamped at it, harness RecordingStore;
 * the OI comes only from the book summary, whose answer carries the index too) and a result of it was
 * posted, instead of sleeping.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type RunningServer } from '../server/server.ts';
import { TestClient } from '../server/testing/test-client.ts';
import { runCli, type SnapshotOutput } from '../cli/gex.ts';
import { EngineHost } from '../src/worker/host.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ResultMessage, type ViewSelection } from '../src/worker/protocol.ts';
import { RecordingStore, TEST_SUMMARY_REFRESH_MS, freeze, frozenStep, realClock, waitFor, wsFactory } from './harness.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);
const SEED = 20260114;

function relClose(a: number, b: number, tol = 1e-9): boolean {
  return Math.abs(a - b) <= tol * Math.max(Math.abs(a), Math.abs(b), 1e-300) || a === b;
}

const selection: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };

describe('EngineHost against the simulator (real Deribit feed)', () => {
  let server: RunningServer;
  let host: EngineHost;
  const posted: FromWorker[] = [];
  let store: RecordingStore | undefined;
  let dir: string;

  beforeAll(async () => {
    server = await startServer({ source: 'sim', seed: SEED, speed: 1, port: 0, startMs: START_MS, log: () => undefined });
    dir = mkdtempSync(join(tmpdir(), 'gexdesk-worker-sim-'));
  });
  afterAll(async () => {
    host?.dispose();
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('builds the chain, and at a paused instant equals the CLI on a snapshot of that instant', async () => {
    const base = server.url.replace(/^http/, 'ws');
    host = new EngineHost({
      clock: realClock,
      socketFactory: wsFactory,
      feedOptions: { summaryRefreshMs: TEST_SUMMARY_REFRESH_MS },
      localBase: base,
      post: (msg) => posted.push(msg),
      createStore: (v, c) => (store = new RecordingStore(v, c)),
    });
    host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
    host.handle({ type: 'select', selection });
    const results = () => posted.filter((m): m is ResultMessage => m.type === 'result');
    const ackAll = () => {
      const r = results();
      if (r.length > 0) host.handle({ type: 'ack', seq: r[r.length - 1].seq });
    };

    // The chain builds while the market moves: several results at advancing venue time.
    const first = await waitFor('a first result with lines', () => {
      ackAll();
      return results().find((r) => r.gex.includedLines > 100);
    }, 15_000);
    await waitFor('venue time to advance', () => {
      ackAll();
      const last = results().at(-1)!;
      return last.gex.nowMs >= first.gex.nowMs + 1_000 ? last : null;
    }, 10_000);
    const h = host.health()[0];
    expect(h.state).toBe('connected');
    expect(h.messagesPerSec).toBeGreaterThan(0);
    expect(first.includedVenues).toEqual(['deribit']);
    expect(first.expiries.length).toBeGreaterThan(5);
    // At most ~4 results per second of wall time.
    const rs = results();
    const span = (rs.at(-1)!.computedAtMs - rs[0].computedAtMs) / 1000;
    expect(rs.length).toBeLessThanOrEqual(Math.ceil(span * 4) + 2);

    // Freeze the market one step past its clock; wait until the host holds that instant (summary every
    // 2 s here) and posted a result of it.
    const step = frozenStep(server, await freeze([server]));
    await waitFor('the chain to hold the frozen instant', () => store?.heldSince(step), 20_000);
    const heldAt = Date.now();
    await waitFor('a result of the frozen instant', () => {
      ackAll();
      return results().some((r) => r.computedAtMs >= heldAt && r.gex.nowMs >= step);
    }, 10_000);

    // Snapshot from the same server at the same instant, saved as files for the CLI.
    const rpc = await TestClient.connect(`${base}/deribit/ws/api/v2`);
    const inst = await rpc.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false });
    const summ = await rpc.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' });
    rpc.ws.close();
    const instFile = join(dir, 'instruments.json');
    const sumFile = join(dir, 'summary.json');
    writeFileSync(instFile, JSON.stringify(inst));
    writeFileSync(sumFile, JSON.stringify(summ));

    host.handle({ type: 'request', id: 1, request: { kind: 'snapshot' } });
    const resp = posted.find((m) => m.type === 'response' && m.id === 1) as Extract<FromWorker, { type: 'response'; ok: true }>;
    expect(resp.ok).toBe(true);
    const snap = resp.data as ResultMessage;
    // Venue time is the frozen simulator step.
    expect(snap.gex.nowMs).toBe(step);

    let out = '';
    let err = '';
    const code = runCli(['snapshot', '--instruments', instFile, '--summary', sumFile, '--now', String(snap.gex.nowMs), '--json'], {
      stdout: (t) => void (out += t),
      stderr: (t) => void (err += t),
      readFile: (p) => readFileSync(p, 'utf8'),
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    const cli = JSON.parse(out) as SnapshotOutput;

    expect(snap.gex.spot).toBe(cli.spot);
    expect(snap.gex.includedLines).toBe(cli.includedLines);
    expect(snap.gex.includedLines).toBeGreaterThan(100);
    expect(cli.zeroGamma).not.toBeNull();
    expect(relClose(snap.gex.zeroGammaLevel!, cli.zeroGamma!)).toBe(true);
    expect(Array.from(snap.gex.strikes)).toEqual(cli.strikes.map((s) => s.strike));
    let maxRel = 0;
    for (let k = 0; k < cli.strikes.length; k++) {
      const a = snap.gex.netGex[k];
      const b = cli.strikes[k].net;
      const scale = Math.max(Math.abs(a), Math.abs(b), 1e-300);
      maxRel = Math.max(maxRel, Math.abs(a - b) / scale);
      expect(relClose(snap.gex.callGex[k], cli.strikes[k].call)).toBe(true);
      expect(relClose(snap.gex.putGex[k], cli.strikes[k].put)).toBe(true);
    }
    expect(maxRel).toBeLessThan(1e-9);
    expect(relClose(snap.gex.totalNetGex, cli.total.net)).toBe(true);
  }, 60_000);
});
