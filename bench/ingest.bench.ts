/**
 * Ingest benchmark (issue 5 "Benchmark").
 *
 * 1. Throughput, one thread: Deribit ticker and markprice frames through the real feed (frame guard,
 *    JSON parse, validation) and the EngineHost's sink into the ChainStore, against bare `JSON.parse`
 *    of the same frame strings in the same run; the ratio is path rate / JSON.parse rate (aim >= 0.4).
 * 2. End-to-end latency at 10x Deribit's real rate: a fake socket feeds the same frame shapes to the
 *    host on a real clock; for every frame, the time from its arrival to the first posted result that
 *    includes it (p50/p99). The page acks every result at once.
 *
 * Frames are recorded from the local simulator at the start of the run (same shapes as the venue's:
 * see server/deribit/frames.ts) and re-stamped with advancing timestamps so nothing is stale.
 */
import { startServer } from '../server/server.ts';
import { TestClient, sleep } from '../server/test-client.ts';
import { EngineHost } from '../src/worker/host.ts';
import type { Clock, SocketLike } from '../src/feeds/adapter.ts';
import { SELECTION_DEFAULTS, type FromWorker, type ViewSelection } from '../src/worker/protocol.ts';
import { FakeClock } from '../src/feeds/testing.ts';
import type { Figure } from './lib.ts';

const START_MS = Date.UTC(2026, 0, 14, 12, 0, 0);
const selection: ViewSelection = { source: 'sim', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2, ...SELECTION_DEFAULTS };

interface Recorded {
  instruments: unknown;
  summary: unknown;
  /** One frame per channel: text and the timestamp it carries. */
  templates: Map<string, { text: string; ts: number }>;
  forwardChannels: string[];
}

/** Record the venue's answers and one frame per channel from the simulator. */
async function record(): Promise<Recorded> {
  const server = await startServer({ source: 'sim', seed: 4242, speed: 1, port: 0, startMs: START_MS, log: () => undefined });
  try {
    const c = await TestClient.connect(`${server.url.replace(/^http/, 'ws')}/deribit/ws/api/v2`);
    const inst = await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false });
    const summ = await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' });
    const rows = inst.result as { instrument_name: string; strike: number; option_type: string; expiration_timestamp: number }[];
    const spot = (summ.result as { estimated_delivery_price: number }[])[0].estimated_delivery_price;
    // The feed's plan: one call per expiry nearest the money carries that expiry's forward.
    const best = new Map<number, { name: string; d: number }>();
    for (const r of rows) {
      if (r.option_type !== 'call') continue;
      const d = Math.abs(r.strike - spot);
      const b = best.get(r.expiration_timestamp);
      if (!b || d < b.d) best.set(r.expiration_timestamp, { name: r.instrument_name, d });
    }
    const forwardChannels = [...best.values()].map((b) => `ticker.${b.name}.100ms`);
    const channels = ['markprice.options.btc_usd', 'deribit_price_index.btc_usd', 'ticker.BTC-PERPETUAL.100ms', ...forwardChannels];
    await c.call('public/subscribe', { channels });
    await sleep(2_500);
    const templates = new Map<string, { text: string; ts: number }>();
    for (const raw of c.raw) {
      if (typeof raw !== 'string' || !raw.includes('"subscription"')) continue;
      const m = JSON.parse(raw) as { params: { channel: string; data: { timestamp?: number } | { timestamp: number }[] } };
      const d = m.params.data;
      const ts = Array.isArray(d) ? d[0]?.timestamp : d.timestamp;
      if (typeof ts === 'number') templates.set(m.params.channel, { text: raw, ts });
    }
    c.close();
    return { instruments: inst.result, summary: summ.result, templates, forwardChannels };
  } finally {
    await server.close();
  }
}

/** The template with every occurrence of its timestamp replaced (all rows of a frame share it). */
function stamp(t: { text: string; ts: number }, ts: number): string {
  return t.text.split(String(t.ts)).join(String(ts));
}

/** A socket that answers the feed's JSON-RPC requests from the recording; data frames are pushed by the bench. */
class ScriptedSocket implements SocketLike {
  readyState = 0;
  onopen: SocketLike['onopen'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  onmessage: SocketLike['onmessage'] = null;
  private replies: string[] = [];
  constructor(
    private readonly rec: Recorded,
    private readonly async: boolean,
  ) {}
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
    this.flush();
  }
  send(data: string): void {
    const m = JSON.parse(data) as { id: number; method: string; params: { channels?: string[] } };
    let result: unknown = 'ok';
    if (m.method === 'public/get_instruments') result = this.rec.instruments;
    else if (m.method === 'public/get_book_summary_by_currency') result = this.rec.summary;
    else if (m.method === 'public/subscribe') result = m.params.channels ?? [];
    else if (m.method === 'public/hello' || m.method === 'public/test') result = { version: '1.2.26' };
    this.replies.push(JSON.stringify({ jsonrpc: '2.0', id: m.id, result, usIn: 0, usOut: 0, usDiff: 0, testnet: false }));
    if (this.async) setTimeout(() => this.flush(), 0);
  }
  flush(): void {
    while (this.replies.length > 0) this.onmessage?.({ data: this.replies.shift()! });
  }
  deliver(text: string): void {
    this.onmessage?.({ data: text });
  }
  close(): void {
    this.readyState = 3;
  }
}

const nowMs = () => performance.timeOrigin + performance.now();

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

/**
 * frames/s of `fn`, best of the passes after the first (warm-up). Each pass is its own frame list so
 * that a path which skips stale data always sees new timestamps.
 */
function rate(passes: string[][], fn: (f: string) => void): number {
  let best = Infinity;
  passes.forEach((frames, p) => {
    const t0 = performance.now();
    for (const f of frames) fn(f);
    const ms = performance.now() - t0;
    if (p > 0) best = Math.min(best, ms / frames.length);
  });
  return 1000 / best;
}

/** A host on a manual clock, its feed subscribed and its chain loaded; frames go straight to the socket. */
function throughputHost(rec: Recorded): { host: EngineHost; socket: ScriptedSocket; clock: FakeClock } {
  const clock = new FakeClock(Date.now());
  let socket: ScriptedSocket | null = null;
  const host = new EngineHost({
    clock,
    socketFactory: () => (socket = new ScriptedSocket(rec, false)),
    localBase: 'ws://127.0.0.1:1',
    post: () => undefined,
  });
  host.handle({ type: 'select', selection });
  socket!.open();
  clock.advance(5_000); // paced subscribes
  socket!.flush();
  return { host, socket: socket!, clock };
}

export async function run(): Promise<Figure[]> {
  const rec = await record();
  const figures: Figure[] = [];
  const mp = rec.templates.get('markprice.options.btc_usd');
  const idx = rec.templates.get('deribit_price_index.btc_usd');
  const perp = rec.templates.get('ticker.BTC-PERPETUAL.100ms');
  const fwd = rec.forwardChannels.map((c) => rec.templates.get(c)).filter((t): t is { text: string; ts: number } => t !== undefined);
  if (!mp || !idx || !perp || fwd.length === 0) throw new Error('recording incomplete');
  const base = mp.ts;

  // Fresh frames per pass: timestamps advance 100 ms per round (1 s for markprice), as on the venue.
  // Passes follow each other in venue time (a jump of more than 60 s would be held back by the feed).
  const PASSES = 4;
  const TICKER_ROUNDS = Math.ceil(20_000 / (fwd.length + 1));
  const tickerPass = (p: number): string[] => {
    const out: string[] = [];
    for (let k = 1; k <= TICKER_ROUNDS; k++) {
      const ts = base + 100 * (p * TICKER_ROUNDS + k);
      for (const t of fwd) out.push(stamp(t, ts));
      out.push(stamp(perp, ts));
    }
    return out;
  };
  const markPass = (p: number): string[] => Array.from({ length: 60 }, (_, k) => stamp(mp, base + 1000 * (p * 60 + k + 1)));
  const rows = (JSON.parse(mp.text) as { params: { data: unknown[] } }).params.data.length;
  let sink = 0;
  const bareParse = (f: string) => void (sink += (JSON.parse(f) as { jsonrpc?: string }).jsonrpc ? 1 : 0);

  // 1. Throughput, one host per kind of frame (its chain loaded, its subscriptions acked).
  for (const [kind, make] of [['ticker', tickerPass], [`markprice (${rows} rows)`, markPass]] as const) {
    const passes = Array.from({ length: PASSES }, (_, p) => make(p));
    const parseRate = rate(passes, bareParse);
    const { host, socket } = throughputHost(rec);
    const pathRate = rate(passes, (f) => socket.deliver(f));
    const parseRate2 = rate(passes, bareParse); // again after, so JIT/GC state favours neither side
    const jsonRate = Math.max(parseRate, parseRate2);
    const h = host.health()[0];
    figures.push({ name: `${kind} frames/s, feed+validation+store`, value: pathRate, unit: 'frames/s' });
    figures.push({ name: `${kind} frames/s, bare JSON.parse`, value: jsonRate, unit: 'frames/s' });
    figures.push({ name: `${kind} ratio (path / JSON.parse)`, value: pathRate / jsonRate, unit: 'x (aim >= 0.4)' });
    figures.push({ name: `${kind} frames or rows dropped`, value: Object.values(h.dropped).reduce((a, b) => a + b, 0), unit: 'count' });
    host.dispose();
  }
  void sink;

  // 2. End-to-end latency at 10x the real rate, real clock.
  {
    const realClock: Clock = {
      now: nowMs,
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    };
    let socket: ScriptedSocket | null = null;
    const arrivals: number[] = [];
    const latencies: number[] = [];
    const posts: number[] = [];
    let host: EngineHost | null = null;
    host = new EngineHost({
      clock: realClock,
      socketFactory: () => (socket = new ScriptedSocket(rec, true)),
      localBase: 'ws://127.0.0.1:1',
      post: (msg: FromWorker) => {
        if (msg.type !== 'result') return;
        const t = nowMs();
        posts.push(t);
        for (const a of arrivals) latencies.push(t - a);
        arrivals.length = 0;
        queueMicrotask(() => host!.handle({ type: 'ack', seq: msg.seq }));
      },
    });
    host.handle({ type: 'select', selection });
    socket!.open();
    await sleep(2_500); // paced subscribes on the real clock
    // Deribit's real rate for this plan: per second 1 markprice, 1 index, 10 perp tickers and
    // 10 per forward ticker (100 ms channels). 10x: every 10 ms one round of the 100 ms channels,
    // every 100 ms the markprice and the index.
    const perSecReal = 1 + 1 + 10 + 10 * fwd.length;
    const seconds = 5;
    let ts = base + 1_000;
    latencies.length = 0;
    arrivals.length = 0;
    posts.length = 0;
    const t0 = nowMs();
    let frames = 0;
    for (let tick = 0; tick < seconds * 100; tick++) {
      const due = t0 + tick * 10;
      const wait = due - nowMs();
      if (wait > 0) await sleep(wait);
      else await new Promise((r) => setImmediate(r));
      ts += 10; // venue time runs 1x; the rate is 10x (frames just come more often)
      const batch = [...fwd.map((t) => stamp(t, ts)), stamp(perp, ts)];
      if (tick % 10 === 0) batch.push(stamp(mp, ts), stamp(idx, ts));
      for (const f of batch) {
        arrivals.push(nowMs());
        socket!.deliver(f);
        frames++;
      }
    }
    await sleep(400);
    const elapsed = (nowMs() - t0) / 1000;
    figures.push({ name: 'e2e input rate (10x real)', value: frames / (seconds), unit: `frames/s (real ${perSecReal})` });
    figures.push({ name: 'e2e frame -> posted result p50', value: percentile(latencies, 50), unit: 'ms' });
    figures.push({ name: 'e2e frame -> posted result p99', value: percentile(latencies, 99), unit: 'ms' });
    figures.push({ name: 'e2e results posted per second', value: posts.length / elapsed, unit: '1/s' });
    const h = host.health()[0];
    figures.push({ name: 'e2e frames dropped', value: Object.values(h.dropped).reduce((a, b) => a + b, 0), unit: 'frames' });
    host.dispose();
  }
  return figures;
}
