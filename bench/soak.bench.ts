/**
 * Soak (issue 6 "Days-long running", reliability §5.1 test 25, Node part): the EngineHost with the
 * real Deribit feed against the simulator running fast, for a simulated day with the 08:00 UTC expiry
 * roll and a forced drop every few simulated hours. The server runs in a child process, so the heap
 * sampled here is the host's (feeds, chain store, engine, results) and not the simulator's.
 *
 * Samples every simulated hour (or SAMPLE_MINUTES): V8 heap used after a full GC (the GC is exposed at
 * run time through the V8 flag; without it the figures are noisier and the report says so), RSS, chain store size,
 * listed expiries, result size, counters. Prints start / after warm-up / end and the least-squares
 * growth after the warm-up per simulated hour and per result posted (scaled to a live hour's 14,400
 * results: at 480x a simulated hour posts ~30, so growth per simulated hour alone would hide what each
 * result leaves behind), and says whether both are flat.
 *
 * Environment: GEXDESK_SOAK_HOURS (default 24), GEXDESK_SOAK_SPEED (default 480: 24 h in 3 min),
 * GEXDESK_SOAK_WARMUP_HOURS (default 3, past the first roll), GEXDESK_SOAK_DROP_EVERY_HOURS (default 6
 * at every speed; 0 = never), GEXDESK_SOAK_SAMPLE_MINUTES (default 60 simulated minutes). Venue time
 * re-anchors on each connection and admits the venue's own pace (src/feeds/venue-time.ts), so a
 * reconnect gap is followed at any speed (issue 6).
 * The "lag min" column is sim time minus the latest result's valuation time: it must stay near 0 while
 * connected. Drops closer together than the 30 s (wall) backoff reset grow the reconnect delay, which
 * at 480x is simulated hours: those samples say "reconnecting" and lag, as they should.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import WebSocket from 'ws';
import { EngineHost } from '../src/worker/host.ts';
import { ChainStore } from '../src/chain/store.ts';
import type { Clock, SocketLike } from '../src/feeds/adapter.ts';
import { SELECTION_DEFAULTS, type ResultMessage, type ViewSelection } from '../src/worker/protocol.ts';
import { type Figure, LIVE_RESULTS_PER_H, MIN_TREND_SAMPLES, root, slope } from './lib.ts';

const HOUR = 3_600_000;
const MB = 2 ** 20;

function envNum(name: string, def: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : def;
}

function exposeGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as () => void) : null;
  } catch {
    return null;
  }
}

async function startServerProcess(speed: number, startMs: number, seed: number): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'server', 'main.ts'), '--source', 'sim', '--port', '0',
    '--speed', String(speed), '--start', String(startMs), '--seed', String(seed)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 20_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
    child.stderr!.on('data', (d: Buffer) => void (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  return { child, url };
}

interface Sample {
  simH: number;
  heapMb: number;
  rssMb: number;
  storeLines: number;
  expiries: number;
  resultKb: number;
  resultsPosted: number;
  recomputes: number;
  reconnects: number;
  droppedKeys: number;
  droppedTotal: number;
  /** Simulated time minus the valuation time of the latest result (how far the figures lag the venue). */
  lagMin: number;
  state: string;
}

/** Bytes a result costs to hold: its typed arrays plus the JSON of the rest. */
function resultBytes(m: ResultMessage): number {
  let n = 0;
  const g = m.gex as unknown as Record<string, unknown>;
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(g)) {
    if (ArrayBuffer.isView(v)) n += v.byteLength;
    else plain[k] = v;
  }
  return n + JSON.stringify({ ...m, gex: plain }).length;
}

export async function run(): Promise<Figure[]> {
  const hours = envNum('GEXDESK_SOAK_HOURS', 24);
  const speed = envNum('GEXDESK_SOAK_SPEED', 480);
  const warmupH = Math.min(envNum('GEXDESK_SOAK_WARMUP_HOURS', 3), hours / 2);
  const dropEveryH = Number(process.env.GEXDESK_SOAK_DROP_EVERY_HOURS ?? 6);
  // Sample period in simulated hours: shorter for slow runs (e.g. 10x, where an hour of wall time is 10 sim h).
  const sampleH = envNum('GEXDESK_SOAK_SAMPLE_MINUTES', 60) / 60;
  // A Friday 06:00 UTC: the daily and the weekly expire at 08:00, two simulated hours in.
  const startMs = Date.UTC(2026, 2, 6, 6, 0, 0);
  const gc = exposeGc();
  const { child, url } = await startServerProcess(speed, startMs, 42);
  const base = url.replace(/^http/, 'ws');
  const clock: Clock = {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  };
  const stores: ChainStore[] = [];
  let last: ResultMessage | null = null;
  let notices = 0;
  const host: EngineHost = new EngineHost({
    clock,
    socketFactory: (u) => new WebSocket(u, { perMessageDeflate: false }) as unknown as SocketLike,
    localBase: base,
    createStore: (venue, currency) => {
      const s = new ChainStore(venue, currency);
      stores.push(s);
      return s;
    },
    // Keep only the latest result (a page paints and forgets); ack at once.
    post: (msg) => {
      if (msg.type === 'result') {
        last = msg;
        queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
      } else if (msg.type === 'notice') notices++;
    },
  });
  const selection: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };
  const simNow = async (): Promise<number> => ((await (await fetch(`${url}/__gexdesk/info`)).json()) as { simTimeMs: number }).simTimeMs;
  const samples: Sample[] = [];
  const rolls: string[] = [];
  try {
    host.handle({ type: 'hello', protocolVersion: 1, localBase: base });
    host.handle({ type: 'select', selection });
    const wallStart = Date.now();
    console.log('  sim h | wall s | heap MB |  rss MB | lines | expiries | result KB | results | reconnects | dropped (kinds) | lag min | state');
    let nextSampleH = 0;
    let nextDropH = dropEveryH > 0 ? dropEveryH : Infinity;
    let prevFront: number | null = null;
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const t = await simNow();
      const simH = (t - startMs) / HOUR;
      const cur = last as ResultMessage | null;
      const front = cur?.expiries[0]?.expiryMs ?? null;
      if (front !== null && prevFront !== null && front !== prevFront) rolls.push(`${new Date(prevFront).toISOString().slice(0, 16)} rolled off at sim +${simH.toFixed(2)} h`);
      if (front !== null) prevFront = front;
      if (simH >= nextDropH) {
        await fetch(`${url}/__sim/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"drop"}' });
        nextDropH += dropEveryH;
      }
      if (simH >= nextSampleH) {
        if (gc) {
          gc();
          gc();
        }
        const mem = process.memoryUsage();
        const h = host.health()[0];
        const sample: Sample = {
          simH: Math.round(simH * 100) / 100,
          heapMb: mem.heapUsed / MB,
          rssMb: mem.rss / MB,
          storeLines: stores.at(-1)?.size ?? 0,
          expiries: cur?.expiries.length ?? 0,
          resultKb: cur ? resultBytes(cur) / 1024 : 0,
          resultsPosted: host.stats.resultsPosted,
          recomputes: host.stats.recomputes,
          reconnects: h?.reconnects ?? 0,
          droppedKeys: h ? Object.keys(h.dropped).length : 0,
          droppedTotal: h ? Object.values(h.dropped).reduce((a, b) => a + b, 0) : 0,
          lagMin: cur ? (t - cur.gex.nowMs) / 60_000 : NaN,
          state: h?.state ?? '-',
        };
        samples.push(sample);
        // Each row as it is taken: a slow run (e.g. 10x for an hour of wall time) can be watched.
        console.log(`  ${sample.simH.toFixed(1).padStart(5)} | ${String(Math.round((Date.now() - wallStart) / 1000)).padStart(6)} | ${sample.heapMb.toFixed(2).padStart(7)} | ${sample.rssMb.toFixed(1).padStart(7)} | ${String(sample.storeLines).padStart(5)} | ${String(sample.expiries).padStart(8)} | ${sample.resultKb.toFixed(1).padStart(9)} | ${String(sample.resultsPosted).padStart(7)} | ${String(sample.reconnects).padStart(10)} | ${String(sample.droppedTotal).padStart(7)} (${sample.droppedKeys}) | ${sample.lagMin.toFixed(1).padStart(7)} | ${sample.state}`);
        nextSampleH = (Math.floor(simH / sampleH) + 1) * sampleH;
      }
      if (simH >= hours) break;
    }
    const wallS = (Date.now() - wallStart) / 1000;

    console.log(`  soak: ${hours} simulated h at ${speed}x in ${wallS.toFixed(0)} s wall; GC ${gc ? 'forced before each sample (V8 flag at run time)' : 'NOT available: heap figures include garbage'}; server in a child process`);
    for (const r of rolls) console.log(`  expiry ${r}`);
    const after = samples.filter((s) => s.simH >= warmupH);
    const first = samples[0];
    const warm = after[0] ?? first;
    const end = samples.at(-1)!;
    const heapSlope = slope(after.map((s) => s.simH), after.map((s) => s.heapMb));
    const rssSlope = slope(after.map((s) => s.simH), after.map((s) => s.rssMb));
    const linesSlope = slope(after.map((s) => s.simH), after.map((s) => s.storeLines));
    const heapKbPerResult = slope(after.map((s) => s.resultsPosted), after.map((s) => s.heapMb)) * 1024;
    const heapLiveMbPerH = (heapKbPerResult * LIVE_RESULTS_PER_H) / 1024;
    // Flat: under 0.25 MB of heap per simulated hour after warm-up (6 MB a day) and under 1 MB per live
    // hour of results, and the chain no bigger than at warm-up + a new listing.
    const enough = after.length >= MIN_TREND_SAMPLES;
    const flat = enough && heapSlope < 0.25 && heapLiveMbPerH < 1 && end.storeLines <= warm.storeLines * 1.25;
    // Figures that stop following the venue clock while the feed says connected are a failure even if
    // memory is flat. A feed waiting out its reconnect backoff lags too, but says so (reconnecting).
    // Judged on samples connected with no reconnect since the previous sample: one taken just after a
    // reconnect's 'open', before its first data, still shows the gap.
    const steady = samples.filter((x, i) => x.state === 'connected' && i > 0 && x.reconnects === samples[i - 1].reconnects);
    const lastConnected = steady.at(-1);
    const frozen = !lastConnected || !(lastConnected.lagMin < 5);
    const maxConnectedLag = Math.max(0, ...steady.filter((x) => x.simH >= warmupH).map((x) => x.lagMin));
    console.log(`  heap MB: start ${first.heapMb.toFixed(2)}, after ${warmupH} h warm-up ${warm.heapMb.toFixed(2)}, end ${end.heapMb.toFixed(2)}; growth after warm-up ${heapSlope.toFixed(3)} MB/sim h, ${heapKbPerResult.toFixed(3)} KB/result = ${heapLiveMbPerH.toFixed(2)} MB per live hour (rss ${rssSlope.toFixed(2)} MB/sim h); chain lines ${linesSlope.toFixed(1)}/sim h -> ${!enough ? `TOO SHORT (${after.length} samples after warm-up)` : flat ? 'FLAT' : 'NOT FLAT'}; figures lag the venue by ${end.lagMin.toFixed(1)} min at the end (${end.state}), ${lastConnected ? lastConnected.lagMin.toFixed(1) : '-'} min at the last steady connected sample, at most ${maxConnectedLag.toFixed(1)} min while steadily connected after warm-up${frozen ? ' -> FROZEN' : ''}; forced drops ${dropEveryH > 0 ? `every ${dropEveryH} sim h` : 'off'}`);
    console.log(`  ${notices} notices, ${rolls.length} expiry roll(s) seen, host errors ${JSON.stringify(host.stats.errors)}, dropped ${JSON.stringify(host.health()[0]?.dropped ?? {})}`);
    return [
      { name: 'simulated hours', value: hours, unit: 'h' },
      { name: 'wall time', value: wallS, unit: 's' },
      { name: 'heap start', value: first.heapMb, unit: 'MB' },
      { name: 'heap after warm-up', value: warm.heapMb, unit: 'MB' },
      { name: 'heap end', value: end.heapMb, unit: 'MB' },
      { name: 'heap growth after warm-up', value: heapSlope, unit: 'MB/sim h' },
      { name: 'heap per result after warm-up', value: heapKbPerResult, unit: 'KB/result' },
      { name: 'heap per live hour (4 results/s)', value: heapLiveMbPerH, unit: 'MB/h' },
      { name: 'rss growth after warm-up', value: rssSlope, unit: 'MB/sim h' },
      { name: 'chain lines end', value: end.storeLines, unit: 'lines' },
      { name: 'result size end', value: end.resultKb, unit: 'KB' },
      { name: 'results posted', value: end.resultsPosted, unit: 'results' },
      { name: 'reconnects', value: end.reconnects, unit: 'reconnects' },
      { name: 'expiry rolls seen', value: rolls.length, unit: 'rolls' },
      { name: 'valuation lag end', value: end.lagMin, unit: 'sim min' },
      { name: 'valuation lag max while connected', value: maxConnectedLag, unit: 'sim min' },
      { name: 'frozen (1 = yes)', value: frozen ? 1 : 0, unit: '' },
      { name: 'flat (1 = yes)', value: flat ? 1 : 0, unit: '' },
    ];
  } finally {
    host.dispose();
    child.kill('SIGTERM');
  }
}
