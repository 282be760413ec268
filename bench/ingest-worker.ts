/**
 * One paced run of the ingest benchmark, in its own thread as the page's worker is: an EngineHost
 * showing the given venues takes a capture's frames at their captured times divided by `speed` (1 = the
 * venues' real rates, 10 = ten times as many frames a second, venue time running ten times as fast, as a
 * replay at 10x). The worker's CPU share is the thread's own CPU time over the run (Linux
 * /proc/thread-self/stat), which other processes on a shared machine do not inflate; its event-loop
 * utilisation (busy wall time, which they do) is printed beside it. Results are acknowledged at once
 * (a page that paints everything).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import type { Clock } from '../src/feeds/adapter.ts';
import type { VenueId } from '../src/chain/model.ts';
import type { FromWorker, ResultMessage } from '../src/worker/protocol.ts';
import { playedHost, type Capture } from './ingest-capture.ts';

export interface PacedRun {
  cap: Capture;
  venues: VenueId[];
  speed: number;
  /** Capture window played, ms of capture time. */
  fromMs: number;
  toMs: number;
  /** Wall time after the start not measured (subscriptions, the first chain). */
  warmupMs: number;
  /** Every frame delivered this many times (the server's `flood` fault); default 1. */
  copies?: number;
}

export interface PacedResult {
  /** Share of one core the thread used over the measured window (its CPU time; ELU where that is unavailable). */
  cpuShare: number;
  /** Event-loop utilisation over the same window: busy wall time, inflated when the machine is shared. */
  busyShare: number;
  measuredMs: number;
  framesPerSec: Record<string, number>;
  undelivered: number;
  resultsPerSec: number;
  /** Time from a frame's arrival to the first posted result after it, sampled. */
  latencyP50: number;
  latencyP99: number;
  dropped: Record<string, Record<string, number>>;
  /** The last posted result equals a fresh computation from the same chain once input stops. */
  lastResultCurrent: boolean;
  final: { nowMs: number; includedLines: number; totalNetGex: number; netGex: number[]; zeroGammaLevel: number | null; perps: { venue: string; bestBid: number | null; depth: number }[] } | null;
}

const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** This thread's CPU time in ms (user + system), or null off Linux. */
function threadCpuMs(): number | null {
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields 14 and 15 of stat (utime, stime) in clock ticks of 10 ms; after the command, index 11 and 12
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return null;
  }
}

const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

export function finalFigures(r: ResultMessage | undefined): PacedResult['final'] {
  if (!r) return null;
  const g = r.gex;
  return {
    nowMs: g.nowMs, includedLines: g.includedLines, totalNetGex: g.totalNetGex, netGex: Array.from(g.netGex), zeroGammaLevel: g.zeroGammaLevel,
    perps: r.perps.map((p) => ({ venue: p.venue, bestBid: p.bestBid, depth: p.depth.length })),
  };
}

async function run(o: PacedRun): Promise<PacedResult> {
  const results: { at: number; msg: ResultMessage }[] = [];
  const sampled: number[] = [];
  const latencies: number[] = [];
  let played: ReturnType<typeof playedHost> | null = null;
  played = playedHost(o.cap, o.venues, realClock, (msg: FromWorker) => {
    if (msg.type !== 'result') return;
    const at = performance.now();
    results.push({ at, msg });
    for (const a of sampled) latencies.push(at - a);
    sampled.length = 0;
    queueMicrotask(() => played!.host.handle({ type: 'ack', seq: msg.seq }));
  });
  await new Promise((r) => setTimeout(r, 300)); // sockets open, REST answered
  const frames = o.cap.frames;
  let i = frames.findIndex((f) => f.t >= o.fromMs);
  if (i < 0) i = frames.length;
  const counts: Record<string, number> = {};
  let undelivered = 0;
  let n = 0;
  const t0 = performance.now();
  let elu0: ReturnType<typeof performance.eventLoopUtilization> | null = null;
  let cpu0: number | null = null;
  let m0 = 0;
  const counts0: Record<string, number> = {};
  await new Promise<void>((done) => {
    const step = () => {
      const now = performance.now();
      if (elu0 === null && now - t0 >= o.warmupMs) {
        elu0 = performance.eventLoopUtilization();
        cpu0 = threadCpuMs();
        m0 = now;
        Object.assign(counts0, counts);
      }
      const due = o.fromMs + (now - t0) * o.speed;
      // At most ~3 ms of frames at a time, as a socket's messages are tasks of their own: the recompute
      // timer runs between them, and a thread that falls behind lets frames wait (freshness), not results.
      while (i < frames.length && frames[i].t <= due && frames[i].t < o.toMs && performance.now() - now < 3) {
        const f = frames[i++];
        for (let c = 0; c < (o.copies ?? 1); c++) {
          if (played!.deliver(f)) {
            counts[f.venue] = (counts[f.venue] ?? 0) + 1;
            if (++n % 25 === 0) sampled.push(performance.now());
          } else undelivered++;
        }
      }
      if (i >= frames.length || frames[i].t >= o.toMs) done();
      else if (frames[i].t <= due) setImmediate(step);
      else setTimeout(step, 1);
    };
    step();
  });
  const end = performance.now();
  const elu = performance.eventLoopUtilization(elu0 ?? undefined);
  const cpu1 = threadCpuMs();
  const measuredMs = end - (elu0 ? m0 : t0);
  // Input stops: the figures settle, and the last one posted must be the chain's own.
  await new Promise((r) => setTimeout(r, 700));
  const host = played.host;
  const last = results.at(-1)?.msg;
  const fresh = host.snapshot();
  const lastResultCurrent = !!last && !!fresh && last.gex.totalNetGex === fresh.gex.totalNetGex && last.gex.nowMs === fresh.gex.nowMs && last.gex.includedLines === fresh.gex.includedLines;
  const framesPerSec: Record<string, number> = {};
  for (const [v, c] of Object.entries(counts)) framesPerSec[v] = ((c - (counts0[v] ?? 0)) * 1000) / measuredMs;
  const inWindow = results.filter((r) => r.at >= (elu0 ? m0 : t0) && r.at <= end).length;
  const dropped: Record<string, Record<string, number>> = {};
  for (const h of host.health()) dropped[h.venue] = h.dropped;
  const out: PacedResult = {
    cpuShare: cpu0 !== null && cpu1 !== null ? (cpu1 - cpu0) / measuredMs : elu.utilization,
    busyShare: elu.utilization,
    measuredMs,
    framesPerSec,
    undelivered,
    resultsPerSec: (inWindow * 1000) / measuredMs,
    latencyP50: pct(latencies, 50),
    latencyP99: pct(latencies, 99),
    dropped,
    lastResultCurrent,
    final: finalFigures(last),
  };
  host.dispose();
  return out;
}

if (parentPort && workerData) {
  void run(workerData as PacedRun).then(
    (r) => parentPort!.postMessage({ ok: true, r }),
    (e: unknown) => parentPort!.postMessage({ ok: false, error: String(e instanceof Error ? e.stack : e) }),
  );
}
