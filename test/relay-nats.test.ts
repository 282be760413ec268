/**
 * Issue 16, part 3: relays past one machine through a local nats-server (Debian's package, started
 * here; missing, this file fails saying what to install). Two ingest processes (real processes, the
 * CLI) for Deribit, one holding the lease, in front of the simulator; two edges serving screens (each an
 * EngineHost with the page's own Deribit client).
 * - screens on both edges show the figures of a screen on the simulator directly;
 * - killing the lease holder (SIGKILL: no clean release) hands the venue to the other within 10 s,
 *   the edges saying "reconnecting" meanwhile; no frame reaches a screen twice; the figures recover.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type NatsConnection } from 'nats';
import { startServer, type RunningServer } from '../server/server.ts';
import { natsServerPath, startNats, type RunningNats } from '../server/testing/nats-server.ts';
import { TestClient } from '../server/testing/test-client.ts';
import { LEASE_BUCKET, NatsBus, seqHeader, subjects, topicToken, type LeaseValue } from '../server/relay/nats.ts';
import type { RelayVenueInfo } from '../server/relay/source.ts';
import { chainBuilt, expectSameFigures, freeze, frozenStep, post, resumeAll, sleep, startRun, TEST_FEED_OPTIONS, waitFor, waitSettled, type Run } from './harness.ts';

const START_MS = Date.UTC(2026, 11, 4, 9, 30);
const SCREENS_PER_EDGE = 2;
const BOOK = 'book.BTC-PERPETUAL.100ms';
const CHANNELS = [BOOK, 'ticker.BTC-PERPETUAL.100ms', 'markprice.options.btc_usd', 'deribit_price_index.btc_usd'];
/** The ingest processes' bound on bytes published and unread by the NATS server: a second or two of Deribit. */
const BACKLOG_BYTES = 256 * 1024;

interface Ingest {
  child: ChildProcess;
  pid: number;
  url: string;
  log: string[];
}

/** An ingest process as a desk runs it: the CLI, Deribit only, from the simulator. */
async function startIngest(nats: string, upstreamBase: string): Promise<Ingest> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--source', 'live', '--port', '0', '--venues', 'deribit', '--upstream-base', upstreamBase, '--nats', nats, '--role', 'ingest', '--nats-backlog-mb', String(BACKLOG_BYTES / 1024 / 1024)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const log: string[] = [];
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`ingest did not start: ${log.join('')}`)), 30_000);
    child.stdout!.on('data', (b: Buffer) => {
      log.push(b.toString());
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(b.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (b: Buffer) => log.push(b.toString()));
    child.once('exit', (code) => reject(new Error(`ingest exited ${code}: ${log.join('')}`)));
  });
  return { child, pid: child.pid!, url, log };
}

type IngestInfo = Extract<RelayVenueInfo['nats'], { role: 'ingest' }>;
type EdgeInfo = Extract<RelayVenueInfo['nats'], { role: 'edge' }>;

async function relayInfo(relay: { url: string }): Promise<RelayVenueInfo> {
  const r = (await (await fetch(`${relay.url}/__gexdesk/info`)).json()) as { relay: Partial<Record<string, RelayVenueInfo>> };
  return r.relay.deribit!;
}

/** A frame's identity on a channel: a book change by its change_id, anything else by its data. */
function frameId(m: { params?: { channel?: string; data?: unknown } }): string {
  const d = m.params?.data as { change_id?: number; type?: string } | undefined;
  return `${m.params?.channel} ${d?.change_id !== undefined ? `${d.type} ${d.change_id}` : JSON.stringify(d)}`;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('live relay through NATS: two edges, two ingest processes', () => {
  let nats: RunningNats;
  let nc: NatsConnection;
  let sim: RunningServer;
  let direct: Run;
  const ingests: Ingest[] = [];
  const edges: RunningServer[] = [];
  const screens: Run[] = [];

  const holderPid = async (): Promise<number | null> => {
    const kv = await nc.jetstream().views.kv(LEASE_BUCKET);
    const e = await kv.get('deribit');
    if (!e || e.operation !== 'PUT') return null;
    return Number(/^ingest-(\d+)-/.exec(e.json<LeaseValue>().holder)?.[1]);
  };

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url.replace('nats://', '') });
    sim = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START_MS, log: () => undefined });
    direct = await startRun({ seed: 42, startMs: START_MS, host: { minIntervalMs: 500 } });
    const base = sim.url.replace(/^http/, 'ws');
    ingests.push(await startIngest(nats.url, base), await startIngest(nats.url, base));
    for (let i = 0; i < 2; i++) {
      edges.push(await startServer({ source: 'live', port: 0, log: () => undefined, nats: { url: nats.url, role: 'edge' }, relay: { venues: ['deribit'], graceMs: 3_000 } }));
    }
    await chainBuilt(direct);
    for (const edge of edges) for (let i = 0; i < SCREENS_PER_EDGE; i++) screens.push(await startRun({ seed: 42, startMs: START_MS, via: edge, host: { minIntervalMs: 500, feedOptions: { ...TEST_FEED_OPTIONS } } }));
    await Promise.all(screens.map((s) => chainBuilt(s, 30_000)));
  }, 120_000);

  afterAll(async () => {
    for (const s of screens) await s.close();
    await direct?.close();
    for (const e of edges) await e.close();
    for (const i of ingests) i.child.kill('SIGKILL');
    await nc?.close();
    await sim?.close();
    await nats?.stop();
  });

  const sameFigures = async () => {
    const t = await freeze([sim, direct.server]);
    const step = frozenStep(sim, t);
    const [ref, ...rest] = await waitSettled([direct, ...screens], step, 60_000);
    expect(rest).toHaveLength(screens.length);
    for (const r of rest) expectSameFigures(r, ref);
    await post(sim, '/__sim/resume');
    await resumeAll([direct]);
  };

  it('screens on both edges show the figures of a screen on the simulator itself; one ingest holds the venue', async () => {
    await sameFigures();
    // the lease holder's upstream connections (one per currency, as the embedded relay's) are the only
    // ones; the other ingest process waits without a connection
    const pid = await holderPid();
    expect(ingests.map((i) => i.pid)).toContain(pid);
    const [held, waiting] = await Promise.all([ingests.find((i) => i.pid === pid)!, ingests.find((i) => i.pid !== pid)!].map(relayInfo));
    expect(held.connections).toBe(2);
    expect(waiting.connections).toBe(0);
    expect(sim.hub.sessions.size).toBe(2);
  }, 120_000);

  it('killing the lease holder hands the venue over within 10 s; no frame reaches a screen twice; figures recover', async () => {
    // a screen on each edge records every frame it gets, across the handover
    const watchers = await Promise.all(edges.map((e) => TestClient.connect(e.url.replace(/^http/, 'ws') + '/deribit/ws/api/v2')));
    for (const w of watchers) await w.call('public/subscribe', { channels: CHANNELS });
    await Promise.all(watchers.map((w) => w.waitFor((m) => m.params?.channel === 'ticker.BTC-PERPETUAL.100ms', 10_000)));
    const pid = (await holderPid())!;
    const holder = ingests.find((i) => i.pid === pid)!;
    const other = ingests.find((i) => i !== holder)!;
    holder.child.kill('SIGKILL');
    const killedAt = Date.now();
    const marks = watchers.map((w) => w.notes('ticker.BTC-PERPETUAL.100ms').length);
    // the edges say the venue is reconnecting (no holder), not silent forever
    await until('an edge names the free lease', async () => (await relayInfo(edges[0])).upstream.BTC?.state === 'reconnecting', 10_000);
    // the other process takes the lease, and frames flow to both edges' screens again
    await until('the other ingest holds the lease', async () => (await holderPid()) === other.pid, 10_000);
    await waitFor('frames again on both edges', () => watchers.every((w, i) => w.notes('ticker.BTC-PERPETUAL.100ms').length > marks[i] + 2), 15_000);
    const handoverMs = Date.now() - killedAt;
    expect(handoverMs).toBeLessThan(10_000);
    await until('edges open again', async () => (await relayInfo(edges[1])).upstream.BTC?.state === 'open', 10_000);
    // every frame each watcher got, once
    for (const w of watchers) {
      const ids = w.msgs.filter((m) => m.params?.channel !== undefined).map(frameId);
      const twice = ids.filter((id, i) => ids.indexOf(id) !== i);
      expect(twice).toEqual([]);
      expect(ids.length).toBeGreaterThan(20);
      w.close();
    }
    // the screens' figures come back equal to the direct screen's
    await sameFigures();
    process.stderr.write(`relay-nats: handover ${handoverMs} ms\n`);
  }, 120_000);

  it('the NATS server stalling: the ingest sheds frames past its bound instead of holding them; books start again from a state; figures recover', async () => {
    const w = await TestClient.connect(edges[0].url.replace(/^http/, 'ws') + '/deribit/ws/api/v2');
    await w.call('public/subscribe', { channels: [BOOK] });
    await w.waitFor((m) => m.params?.channel === BOOK, 10_000);
    const pid = await holderPid();
    const holder = ingests.find((i) => i.pid === pid)!;
    const resyncs = ((await relayInfo(edges[0])).nats as EdgeInfo).resyncs;
    // the server reads nothing for two seconds (well inside the lease's life)
    process.kill(nats.pid, 'SIGSTOP');
    await sleep(2_000);
    process.kill(nats.pid, 'SIGCONT');
    await until('the edge starts the book again from a state', async () => ((await relayInfo(edges[0])).nats as EdgeInfo).resyncs > resyncs, 15_000);
    const ingest = (await relayInfo(holder)).nats as IngestInfo;
    expect(ingest.shed).toBeGreaterThan(0);
    // what the ingest held unread: its bound and the frame that crossed it (a summary frame is under 256 KB)
    expect(ingest.maxBacklogBytes).toBeLessThan(BACKLOG_BYTES + 256 * 1024);
    const mark = w.notes(BOOK).length;
    await waitFor('book frames after the stall', () => w.notes(BOOK).length > mark + 10, 10_000);
    // the screen's book: every change follows the one before it, or a snapshot starts the book again
    const book = w.notes(BOOK).map((m) => m.params!.data as { type: string; change_id: number; prev_change_id?: number });
    for (let i = 1; i < book.length; i++) if (book[i].type !== 'snapshot') expect(book[i].prev_change_id).toBe(book[i - 1].change_id);
    expect(book.filter((b) => b.type === 'snapshot').length).toBeGreaterThanOrEqual(2);
    w.close();
    await sameFigures();
  }, 120_000);
});

describe('live relay through NATS: an edge delivers each frame once, in its holder\'s order', () => {
  // frames put on NATS here as an ingest process would (subject per topic, `gx-seq` header), so the
  // order they arrive in is the test's: a last value before the edge follows, repeats, an old holder
  let nats: RunningNats;
  let nc: NatsConnection;
  let edge: RunningServer;
  const path = '/deribit/ws/api/v2';
  const channel = 'markprice.options.btc_usd';
  const subject = subjects.frame('deribit', 'BTC', topicToken(path, channel));
  const frame = (n: number) => JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data: [{ instrument_name: `BTC-X-${n}`, mark_price: n, iv: 0.5, timestamp: START_MS + n }] } });
  const put = (epoch: number, n: number) => nc.publish(subject, frame(n), { headers: seqHeader({ epoch, n }) });

  beforeAll(async () => {
    nats = await startNats();
    nc = await connect({ servers: nats.url.replace('nats://', '') });
    edge = await startServer({ source: 'live', port: 0, log: () => undefined, nats: { url: nats.url, role: 'edge' }, relay: { venues: ['deribit'], graceMs: 3_000 } });
  }, 30_000);

  afterAll(async () => {
    await edge?.close();
    await nc?.close();
    await nats?.stop();
  });

  it('the last value from NATS at once, then live frames once each; a holder that lost the lease is not heard', async () => {
    put(7, 1);
    put(7, 2);
    await nc.flush();
    const screen = await TestClient.connect(edge.url.replace(/^http/, 'ws') + path);
    try {
      await screen.call('public/subscribe', { channels: [channel] });
      // the stream's last value of the topic, before any new frame: the edge held nothing of it
      await screen.waitFor((m) => m.params?.channel === channel, 5_000);
      // 2 again (as the live subscription and the last values can both hold it), then 3; an old
      // holder's frame (epoch 6); 3 again; then the next holder's first frame (epoch 8)
      put(7, 2);
      put(7, 3);
      put(6, 9);
      put(7, 3);
      put(8, 1);
      await screen.waitFor((m) => m.params?.channel === channel && (m.params.data as { mark_price: number }[])[0].mark_price === 1 && screen.notes(channel).length > 1, 5_000);
      await sleep(300);
      expect(screen.notes(channel).map((m) => (m.params!.data as { mark_price: number }[])[0].mark_price)).toEqual([2, 3, 1]);
    } finally {
      screen.close();
    }
  }, 30_000);

  it('two holders at once (one taking over, its connection behind): a venue frame both received reaches a screen once', async () => {
    const eth = 'markprice.options.eth_usd';
    const ethSubject = subjects.frame('deribit', 'ETH', topicToken(path, eth));
    const ethFrame = (n: number) => JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel: eth, data: [{ instrument_name: `ETH-X-${n}`, mark_price: n, iv: 0.5, timestamp: START_MS + n }] } });
    // the venue stamp goes with each frame, as an ingest process sends it
    const putEth = (epoch: number, n: number, stamp: number) => nc.publish(ethSubject, ethFrame(stamp), { headers: seqHeader({ epoch, n }, START_MS + stamp) });
    const screen = await TestClient.connect(edge.url.replace(/^http/, 'ws') + path);
    try {
      await screen.call('public/subscribe', { channels: [eth] });
      await sleep(300);
      putEth(3, 1, 1);
      putEth(3, 2, 2);
      putEth(3, 3, 3);
      // the new holder's first frames are the venue's frames at stamps 2 and 3 again, then its own 4 and 5
      putEth(4, 1, 2);
      putEth(4, 2, 3);
      putEth(4, 3, 4);
      putEth(4, 4, 5);
      await screen.waitFor(() => screen.notes(eth).length >= 5, 5_000);
      await sleep(300);
      expect(screen.notes(eth).map((m) => (m.params!.data as { mark_price: number }[])[0].mark_price)).toEqual([1, 2, 3, 4, 5]);
    } finally {
      screen.close();
    }
  }, 30_000);
});

describe('NATS that asks for a password, over TLS', () => {
  // a desk's NATS beyond one machine: credentials before the host in --nats, tls://, the server's
  // certificate checked against --nats-ca (a self-signed one made here with openssl)
  let nats: RunningNats;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gexdesk-nats-tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
    nats = await startNats(['--user', 'desk', '--pass', 's3cret', '--tls', '--tlscert', join(dir, 'cert.pem'), '--tlskey', join(dir, 'key.pem')]);
  }, 30_000);

  afterAll(async () => {
    await nats?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const url = (userinfo: string) => nats.url.replace('tls://', `tls://${userinfo}@`);

  it('connects with the password and the CA, and carries frames; a wrong password or an unknown CA is refused', async () => {
    const bus = await NatsBus.connect({ url: url('desk:s3cret'), role: 'edge', caFile: join(dir, 'cert.pem') });
    try {
      const got = new Promise<string>((resolve) => bus.nc.subscribe('gexdesk.t', { max: 1, callback: (_e, m) => resolve(m.string()) }));
      await bus.nc.flush();
      bus.nc.publish('gexdesk.t', 'over tls');
      expect(await got).toBe('over tls');
      expect(bus.nc.info?.tls_required).toBe(true);
    } finally {
      await bus.close();
    }
    await expect(NatsBus.connect({ url: url('desk:wrong'), role: 'edge', caFile: join(dir, 'cert.pem') })).rejects.toThrow(/authoriz/i);
    await expect(NatsBus.connect({ url: url('desk:s3cret'), role: 'edge' })).rejects.toThrow(/certificate/i);
  }, 30_000);
});

describe('nats-server for these tests', () => {
  it('missing, the tests fail saying what to install, not skip', () => {
    expect(() => natsServerPath(['/nonexistent'])).toThrow(/apt-get install -y nats-server/);
  });
});
