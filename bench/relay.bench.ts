/**
 * `npm run bench -- relay` (issue 16): 200 screens on one desk relay fed by the simulator at the
 * venues' real rates, BTC and ETH on all four venues.
 *
 * - The simulator and the relay run as processes of their own (`server/main.ts --source sim` and
 *   `--source live --upstream-base`), so the relay's CPU and RSS are its own (/proc).
 * - "Subscribed as the app subscribes": each venue's real client runs once per currency against the
 *   simulator and what it sends (subscribes, requests) is taken down; every screen is a websocket
 *   client that sends exactly that on the relay's paths, then counts what it gets. Screens are spread
 *   over the eight (venue, currency) views a desk shows.
 * - Relay-added latency: a monitor sends the same on the simulator itself; a frame's bytes are the same
 *   upstream and downstream (the relay relays them as received), so each frame a screen gets is timed
 *   against the monitor's arrival of the same bytes (frames of Deribit, OKX and Binance; Bybit's
 *   option tickers, 6,300 a second a currency, are counted, not timed). Timed in a probe process of
 *   its own (./relay-probe.ts: a monitor and one screen per view on each relay process), since the
 *   200 screens' process is busy enough for its own queue to dominate what it times (also printed).
 * - Two layouts, one after the other: `one`, a desk relay (`--source live`); `nats`, one ingest process
 *   and two edges (`--nats --role ingest|edge`) through a local nats-server (Debian's, started as the
 *   tests start it), the screens split between the edges; CPU and RSS per relay process.
 * GEXDESK_RELAY_BENCH_S (default 60) sets the measured span, GEXDESK_RELAY_BENCH_SCREENS (200) the screens,
 * GEXDESK_RELAY_BENCH_LAYOUT (`one,nats`) the layouts, GEXDESK_RELAY_BENCH_NODE_ARGS node flags for the
 * server processes (`--cpu-prof --cpu-prof-dir=DIR` profiles each).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { availableAdapters } from '../src/feeds/registry.ts';
import type { Clock, FeedSink, SocketLike } from '../src/feeds/adapter.ts';
import type { Currency } from '../src/chain/model.ts';
import { localPath } from '../server/replay/recording.ts';
import { startNats, type RunningNats } from '../server/testing/nats-server.ts';
import { root, type Figure } from './lib.ts';
import { openView, pct, timed, viewToJson, type View } from './relay-views.ts';

const SPAN_S = Number(process.env.GEXDESK_RELAY_BENCH_S ?? 60);
const SCREENS = Number(process.env.GEXDESK_RELAY_BENCH_SCREENS ?? 200);
const CURRENCIES: Currency[] = ['BTC', 'ETH'];
const LAYOUTS = (process.env.GEXDESK_RELAY_BENCH_LAYOUT ?? 'one,nats').split(',').filter((l): l is Layout => l === 'one' || l === 'nats');
type Layout = 'one' | 'nats';
/** Node flags for the relay processes (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: a profile of each, written at exit). */
const NODE_ARGS = (process.env.GEXDESK_RELAY_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
type RelayInfo = { relay: Record<string, { connections: number; connects: number; sent: number; cacheMisses: number; cacheHits: number; delivered: number; skipped: number; nats?: { published?: number; shed?: number; maxBacklogBytes?: number; resyncs?: number } }>; connections: number };

const realClock: Clock = { now: () => Date.now(), setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>) };
const quietSink: FeedSink = { instruments: () => undefined, options: () => undefined, forwards: () => undefined, index: () => undefined, perp: () => undefined, trades: () => undefined, status: () => undefined };


function startProcess(args: string[]): Promise<{ child: ChildProcess; url: string; log: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...NODE_ARGS, '--import', 'tsx', 'server/main.ts', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) resolve({ child, url: m[1], log });
    });
    // the NATS roles' lease events (a holder that lost its lease under load shows here)
    const log: string[] = [];
    child.stderr!.on('data', (d: Buffer) => log.push(...d.toString().split('\n').filter((l) => /lease/.test(l))));
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out.slice(0, 300)}`)));
  });
}

/** The app's own clients against the simulator for a few seconds: what each sends on each socket. */
async function learnViews(simWs: string): Promise<View[]> {
  const views: View[] = [];
  const feeds: { stop(): void }[] = [];
  for (const adapter of availableAdapters()) {
    for (const currency of CURRENCIES) {
      const view: View = { venue: adapter.id, currency, sent: new Map() };
      views.push(view);
      const socketFactory = (url: string): SocketLike => {
        const path = localPath(adapter.id, url);
        const ws = new WebSocket(url, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
        const list = view.sent.get(path) ?? [];
        view.sent.set(path, list);
        const send = ws.send.bind(ws);
        ws.send = ((data: string, ...more: unknown[]) => {
          // keepalive is each screen's own business; subscribes and requests are what it asks
          if (data !== 'ping' && !data.includes('"op":"ping"') && !data.includes('public/test') && !data.includes('set_heartbeat')) list.push(data);
          (send as (...a: unknown[]) => void)(data, ...more);
        }) as typeof ws.send;
        return ws as unknown as SocketLike;
      };
      const feed = adapter.createFeed({ url: simWs + adapter.localPath, currency, clock: realClock, socketFactory, sink: quietSink });
      feed.start();
      feeds.push(feed);
    }
  }
  await new Promise((r) => setTimeout(r, 8_000));
  for (const f of feeds) f.stop();
  return views;
}

interface Tally {
  frames: number;
  bytes: number;
  lat: number[];
}

/** The latency probe (./relay-probe.ts) in a process of its own: the frames' relay-added latencies. */
function startProbe(task: { simWs: string; relays: string[]; views: ReturnType<typeof viewToJson>[]; warmMs: number; spanMs: number }): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/relay-probe.ts'], { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve((JSON.parse(out) as { lat: number[] }).lat) : reject(new Error(`latency probe exited ${code}`))));
    child.stdin!.end(JSON.stringify(task));
  });
}

function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
}
function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}


export async function run(): Promise<Figure[]> {
  const figs: Figure[] = [];
  for (const layout of LAYOUTS) figs.push(...(await measure(layout)));
  return figs;
}

/**
 * The relay processes of a layout: `upstream` holds the venue connections (its info tells them),
 * `screens` serve the screens; every one's CPU and RSS count.
 */
async function startRelays(layout: Layout, simWs: string): Promise<{ all: { pid: number; name: string }[]; kill(): void; upstream: { url: string; log: string[] }; screens: { url: string }[]; nats?: RunningNats }> {
  const caps = ['--port', '0', '--max-connections', String(SCREENS * 3), '--max-connections-per-ip', String(SCREENS * 3)];
  if (layout === 'one') {
    const relay = await startProcess(['--source', 'live', '--upstream-base', simWs, ...caps]);
    return { all: [{ pid: relay.child.pid!, name: 'relay' }], kill: () => relay.child.kill(), upstream: relay, screens: [relay] };
  }
  const nats = await startNats();
  const ingest = await startProcess(['--source', 'live', '--upstream-base', simWs, '--nats', nats.url, '--role', 'ingest', ...caps]);
  const edges: { child: ChildProcess; url: string }[] = [];
  for (let i = 1; i <= 2; i++) edges.push(await startProcess(['--source', 'live', '--nats', nats.url, '--role', 'edge', ...caps]));
  return {
    all: [{ pid: ingest.child.pid!, name: 'ingest' }, ...edges.map((e, i) => ({ pid: e.child.pid!, name: `edge ${i + 1}` })), { pid: nats.pid, name: 'nats-server' }],
    kill: () => [ingest, ...edges].forEach((p) => p.child.kill()),
    upstream: ingest,
    screens: edges,
    nats,
  };
}

async function measure(layout: Layout): Promise<Figure[]> {
  const sim = await startProcess(['--source', 'sim', '--seed', '42', '--port', '0', '--max-connections-per-ip', '64']);
  const simWs = sim.url.replace(/^http/, 'ws');
  const relays = await startRelays(layout, simWs);
  const sockets: WebSocket[] = [];
  const tag = layout === 'one' ? 'one relay' : 'NATS, 1 ingest + 2 edges';
  try {
    const views = await learnViews(simWs);
    // the monitor: when each frame's bytes left the simulator (arrival on a direct socket)
    const seenAt = new Map<string, number>();
    for (const v of views) if (timed(v)) sockets.push(...openView(simWs, v, (text, at) => {
      if (!seenAt.has(text)) seenAt.set(text, at);
    }));
    const tallies = new Map<string, Tally>();
    const perScreen: { view: View; t: Tally }[] = [];
    let measuring = false;
    for (let i = 0; i < SCREENS; i++) {
      const view = views[i % views.length];
      const t: Tally = { frames: 0, bytes: 0, lat: [] };
      perScreen.push({ view, t });
      const relayWs = relays.screens[i % relays.screens.length].url.replace(/^http/, 'ws');
      sockets.push(...openView(relayWs, view, (text, at) => {
        if (!measuring) return;
        t.frames++;
        t.bytes += text.length;
        if (timed(view) && t.lat.length < 20_000) {
          const s = seenAt.get(text);
          if (s !== undefined) t.lat.push(at - s);
        }
      }));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 200));
    }
    const probe = startProbe({ simWs, relays: relays.screens.map((r) => r.url.replace(/^http/, 'ws')), views: views.map(viewToJson), warmMs: 10_000, spanMs: SPAN_S * 1000 });
    await new Promise((r) => setTimeout(r, 10_000)); // every screen subscribed and warm
    const sweep = setInterval(() => {
      if (seenAt.size > 200_000) seenAt.clear();
    }, 1_000);
    measuring = true;
    const cpu0 = relays.all.map((r) => cpuMs(r.pid));
    const t0 = performance.now();
    const rssMax = relays.all.map(() => 0);
    const rssTimer = setInterval(() => relays.all.forEach((r, i) => (rssMax[i] = Math.max(rssMax[i], rssMb(r.pid)))), 1_000);
    await new Promise((r) => setTimeout(r, SPAN_S * 1000));
    measuring = false;
    const wallS = (performance.now() - t0) / 1000;
    const cpu = relays.all.map((r, i) => (cpuMs(r.pid) - cpu0[i]) / 1000 / wallS);
    clearInterval(rssTimer);
    clearInterval(sweep);
    const infoOf = async (r: { url: string }) => (await (await fetch(`${r.url}/__gexdesk/info`)).json()) as RelayInfo;
    const info = await infoOf(relays.upstream);
    const served = await Promise.all(relays.screens.map(infoOf));
    const skipped = (v: string) => served.reduce((n, i) => n + (i.relay[v]?.skipped ?? 0), 0);
    for (const { view, t } of perScreen) {
      const k = `${view.venue} ${view.currency}`;
      const a = tallies.get(k) ?? { frames: 0, bytes: 0, lat: [] };
      a.frames += t.frames;
      a.bytes += t.bytes;
      a.lat.push(...t.lat);
      tallies.set(k, a);
    }
    const screensOf = (k: string) => perScreen.filter(({ view }) => `${view.venue} ${view.currency}` === k).length;
    const lat = [...tallies.values()].flatMap((t) => t.lat);
    const probed = await probe;
    const figs: Figure[] = [
      { name: `${tag}: screens`, value: SCREENS, unit: `websocket clients on ${relays.screens.length} relay process(es)` },
      { name: `${tag}: relay-added latency p50`, value: pct(probed, 0.5), unit: `ms, probe process (${probed.length} frames timed)` },
      { name: `${tag}: relay-added latency p99`, value: pct(probed, 0.99), unit: 'ms, probe process (target < 50)' },
      { name: `${tag}: latency as the screens' process saw it, p50`, value: pct(lat, 0.5), unit: 'ms (its own queue included)' },
      { name: `${tag}: latency as the screens' process saw it, p99`, value: pct(lat, 0.99), unit: 'ms' },
    ];
    relays.all.forEach((r, i) => {
      figs.push({ name: `${tag}: ${r.name} CPU`, value: cpu[i], unit: 'cores (target < 1)' });
      figs.push({ name: `${tag}: ${r.name} RSS max`, value: rssMax[i], unit: 'MB (target < 500)' });
    });
    for (const [k, t] of tallies) figs.push({ name: `${tag}: frames per screen per s, ${k}`, value: t.frames / screensOf(k) / wallS, unit: 'frames/s' });
    let upstream = 0;
    for (const [v, r] of Object.entries(info.relay)) {
      upstream += r.connections;
      figs.push({ name: `${tag}: upstream connections, ${v}`, value: r.connections, unit: `open (${r.connects} opened in all)` });
      figs.push({ name: `${tag}: upstream requests, ${v}`, value: r.sent, unit: `frames sent upstream (cache: ${r.cacheHits} hits, ${r.cacheMisses} misses)` });
      figs.push({ name: `${tag}: dropped per screen, ${v}`, value: skipped(v) / SCREENS, unit: 'frames skipped for a slow screen' });
    }
    figs.push({ name: `${tag}: upstream connections, all`, value: upstream, unit: 'sockets (one client per venue and currency)' });
    if (layout === 'nats') {
      // the process's publishing (each venue's info shows the same)
      const pub = Object.values(info.relay)[0]?.nats ?? {};
      figs.push({ name: `${tag}: ingest frames shed`, value: pub.shed ?? NaN, unit: `of ${pub.published ?? NaN} published (NATS backlog max ${((pub.maxBacklogBytes ?? NaN) / 1024 / 1024).toFixed(1)} MB)` });
      figs.push({ name: `${tag}: edge book resyncs`, value: served.reduce((n, i) => n + Object.values(i.relay).reduce((m, r) => m + (r.nats?.resyncs ?? 0), 0), 0), unit: 'books started again from a state (all edges)' });
    }
    if (layout === 'nats') figs.push({ name: `${tag}: leases lost by the ingest`, value: relays.upstream.log.filter((l) => /lost the/.test(l)).length, unit: `(taken again after expiring: ${relays.upstream.log.filter((l) => /took the/.test(l)).length}; refreshes retried: ${relays.upstream.log.filter((l) => /trying again/.test(l)).length})` });
    return figs;
  } finally {
    for (const s of sockets) s.terminate();
    relays.kill();
    await relays.nats?.stop();
    sim.child.kill();
  }
}
