/**
 * The live relay as a venue's source (`--source live`): the venue's protocol (acks, keepalive, limits,
 * caps: `server/venues/<venue>/protocol.ts`, as in sim and replay) serves many screens, and this source
 * feeds it from one upstream connection set per venue (./upstream.ts: the venue's own client per
 * currency).
 *
 * - Frames: every pushed frame the upstream receives goes, as the same bytes (encoded once), to each
 *   screen on its path that holds its topic. A screen that does not read is skipped frames (newest
 *   only) and dropped past the hard cap by its ClientSocket, without slowing the others.
 * - Late joiners: books are folded as a replay folds them (./specs.ts) and a new subscriber gets the
 *   fold as a snapshot first; any other topic's latest burst (a ticker's last frame, a family's last
 *   set of summary frames) is sent to it at once.
 * - Multiplexing: the currencies the screens' subscriptions name are held upstream; one no screen holds
 *   is stopped a grace period later (checked each second).
 * - Requests: Deribit's allow-listed public methods and the venues' allow-listed REST reads are answered
 *   from a short-lived cache shared with the relay's own client; a miss goes upstream once however
 *   many screens ask meanwhile. Nothing else a screen sends reaches the venue.
 * - Past one machine (`nats`, ./nats.ts): an ingest process runs the upstream only while it holds the
 *   venue's lease and publishes each frame (and a book's fold) on NATS; an edge's upstream is NATS
 *   (./nats-edge.ts) and its requests go to the lease holder. The downstream is the same in every role.
 *
 * About 430 lines: frames, late joiners, multiplexing and requests all key on the same per-screen
 * topics and per-currency holds; the upstream, the book folds and NATS are apart.
 */
import { relayGet, type RestAnswer } from '../http/rest-relay.ts';
import { SimClock } from '../clock.ts';
import { canonicalQuery, localRestPath } from '../replay/recording.ts';
import { TokenBucket } from '../venues/client-socket.ts';
import type { VenueHub } from '../venues/hub.ts';
import type { VenueSession } from '../venues/session.ts';
import type { VenueDef } from '../venues/venue-def.ts';
import type { DeribitSource, RpcReply } from '../venues/deribit/protocol.ts';
import type { Currency } from '../../src/chain/model.ts';
import type { FetchJson } from '../../src/feeds/rest-fetch.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { venueAdapters } from '../../src/feeds/registry.ts';
import { AnswerCache } from './cache.ts';
import { relaySpec, type RelaySpec } from './specs.ts';
import { CURRENCIES, currencyOf, VenueUpstream, type RpcAnswer, type Upstream, type UpstreamState } from './upstream.ts';
import { seqHeader, subjects, topicToken, VenueLease, type NatsBus, type Seq } from './nats.ts';
import { NatsUpstream } from './nats-edge.ts';

export interface RelayOptions {
  /** A local gexdesk server (`ws://HOST:PORT`) to relay instead of the venues (tests, the bench). */
  upstreamBase?: string;
  /** How long an upstream currency stays subscribed after its last screen left, ms (default 30 s). */
  graceMs?: number;
  /** How long a request's answer is reused, ms (default 1 s). */
  cacheTtlMs?: number;
  /** Deribit's heartbeat interval upstream, seconds (the client's default otherwise). */
  heartbeatS?: number;
  /** Other options for the upstream clients (tests: shorter refresh periods). */
  feedOptions?: Record<string, unknown>;
  fetchImpl?: typeof fetch;
  log?: (line: string) => void;
  /**
   * Past one machine (./nats.ts): `ingest` holds the venue while it holds the venue's lease and
   * publishes what it receives; `edge` serves screens from NATS. Absent: one process does both.
   */
  nats?: NatsBus;
  /** The venues relayed (default all). */
  venues?: readonly VenueId[];
}

export const DEFAULT_GRACE_MS = 30_000;
export const DEFAULT_CACHE_TTL_MS = 1_000;
/** A screen skipped every frame for this long (its queue above the soft limit) is closed. */
export const RELAY_SOFT_GRACE_MS = 10_000;
/** Frames of a topic arriving closer together than this are one burst (a family's summary frames of one second). */
const BURST_GAP_MS = 20;
const BURST_MAX_FRAMES = 200;
/** Ingest: a book's state goes on NATS at most this often (and after any of its frames was shed). */
const STATE_EVERY_MS = 1_000;
/** An upstream with no data frame for this long, while connected, is shown silent. */
export const UPSTREAM_SILENT_MS = 10_000;

/**
 * Deribit's public methods a screen may have answered through the relay (read-only market data, trade
 * history included); anything else is not forwarded (the protocol answers -32601).
 */
export const RELAYED_DERIBIT_METHODS: ReadonlySet<string> = new Set([
  'public/get_instruments', 'public/get_book_summary_by_currency', 'public/get_book_summary_by_instrument', 'public/ticker',
  'public/get_index_price', 'public/get_order_book', 'public/get_last_trades_by_currency', 'public/get_last_trades_by_currency_and_time',
  'public/get_last_trades_by_instrument', 'public/get_last_trades_by_instrument_and_time', 'public/get_delivery_prices', 'public/get_funding_rate_value',
]);

/**
 * The relay's venue clock: the newest stamp the upstream's frames carried, running on with the wall
 * clock for at most a second past it (a paused or replayed upstream keeps its own time), so the
 * envelopes and hello replies screens anchor their venue time on are the upstream venue's.
 */
export class UpstreamClock extends SimClock {
  private stamp: number | null = null;
  private at = 0;
  constructor() {
    super(Date.now(), 1);
  }
  note(ms: number | null): void {
    if (ms === null || !Number.isFinite(ms)) return;
    if (this.stamp === null || ms >= this.stamp || this.now() - ms > 60_000) {
      this.stamp = ms;
      this.at = Date.now();
    }
  }
  override now(): number {
    return this.stamp === null ? Date.now() : this.stamp + Math.min(Date.now() - this.at, 1_000);
  }
}

/** A venue's upstream as `/__gexdesk/info` shows it under `relay`. */
export interface RelayVenueInfo {
  /** Per currency held upstream: connection state, and `silent` when connected without data. */
  upstream: Partial<Record<Currency, UpstreamState & { silent: boolean }>>;
  connections: number;
  connects: number;
  /** Frames sent upstream (subscribes, requests, keepalive) and received. */
  sent: number;
  received: number;
  /** Request answers from the cache (or a call under way) / calls that went upstream. */
  cacheHits: number;
  cacheMisses: number;
  /** Frames relayed to screens, and skipped for a screen that did not read. */
  delivered: number;
  skipped: number;
  /**
   * Past one machine: an ingest process's publishing, shared by its venues (frames shed while the NATS
   * server lagged, the most bytes it held unread), or an edge's following (frames dropped as already
   * delivered, books that missed frames and started again from a state, frames that did not parse).
   */
  nats?:
    | { role: 'ingest'; published: number; shed: number; sheddingSpells: number; backlogBytes: number; maxBacklogBytes: number }
    | { role: 'edge'; duplicates: number; bookGaps: number; resyncs: number; unreadable: number };
}

export class RelaySource implements DeribitSource {
  readonly upstream: Upstream;
  readonly clock: UpstreamClock;
  private readonly spec: RelaySpec;
  private readonly books = new Map<string, unknown>();
  private readonly seenPushed = new Set<string>();
  private readonly bursts = new Map<string, { at: number; frames: Buffer[] }>();
  private readonly rpcCache: AnswerCache<RpcAnswer>;
  private readonly restCache: AnswerCache<RestAnswer>;
  private readonly restBase: string | null;
  private readonly bucket: TokenBucket | null;
  /** Per session: the size of its subscription set when its currencies were last read, and those currencies. */
  private readonly held = new WeakMap<VenueSession, { size: number; currencies: Set<Currency> }>();
  private readonly fetchImpl: typeof fetch | undefined;
  private delivered = 0;
  private skipped = 0;
  /** Ingest: the venue's lease, the epoch won with it, and the sequence of each topic published. */
  private readonly lease: VenueLease | null = null;
  private epoch = 0;
  private readonly published = new Map<string, Seq & { token: string }>();
  /** Ingest: when each book's state was last published, and the books with a frame shed since. */
  private readonly statePublishedAt = new Map<string, number>();
  private readonly stateOwed = new Set<string>();
  /** Edge: frames from NATS that did not parse (a book's, or a state). */
  private unreadable = 0;
  private readonly bus: NatsBus | undefined;

  constructor(
    readonly hub: VenueHub,
    readonly def: VenueDef,
    clock: UpstreamClock,
    o: RelayOptions,
  ) {
    this.clock = clock;
    this.spec = relaySpec(def.venue);
    this.fetchImpl = o.fetchImpl;
    const ttl = o.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS;
    this.rpcCache = new AnswerCache(ttl);
    this.restCache = new AnswerCache(ttl);
    const adapter = venueAdapters[def.venue];
    if (!adapter) throw new Error(`relay: no client for ${def.venue}`);
    const base = o.upstreamBase?.replace(/\/+$/, '');
    const rest = def.rest;
    this.restBase = rest ? (base ? `${base.replace(/^ws/, 'http')}${rest.prefix}` : rest.liveBase) : null;
    // the venue's own public limit live; a local upstream (the simulator) has none worth keeping to
    this.bucket = rest ? (base ? new TokenBucket(50, 50) : rest.bucket()) : null;
    const bus = o.nats;
    this.bus = bus;
    if (bus?.role === 'edge') {
      this.upstream = new NatsUpstream(bus, {
        venue: def.venue,
        graceMs: o.graceMs ?? DEFAULT_GRACE_MS,
        topicKind: (key) => (this.spec.books?.handles(key) ? 'book' : this.spec.isTape(key) ? 'tape' : 'latest'),
        onFrame: (c, path, key, bytes, stamp, state) => this.fromNats(c, path, key, bytes, stamp, state),
        onStop: (c) => this.forget(c),
        log: o.log,
      });
      return;
    }
    this.upstream = new VenueUpstream({
      venue: def.venue,
      url: base ? base + adapter.localPath : adapter.liveUrl,
      graceMs: o.graceMs ?? DEFAULT_GRACE_MS,
      fetchJson: this.clientFetch,
      heartbeatS: o.heartbeatS,
      feedOptions: o.feedOptions,
      onFrame: (c, path, text, frame) => this.frame(c, path, text, frame),
      onClientAnswer: def.venue === 'deribit' ? (m, p, a) => this.clientAnswer(m, p, a) : undefined,
      onStop: (c) => this.forget(c),
      log: o.log,
    });
    if (bus?.role === 'ingest') {
      const lease = new VenueLease(bus, def.venue, {
        value: () => ({ holder: bus.id, upstream: Object.fromEntries(Object.entries(this.upstream.health()).map(([c, h]) => [c, { state: h.state, reason: h.reason }])) }),
        // won (or won again under a new epoch: the upstream, if running, goes on; edges take the newer epoch)
        won: (epoch) => {
          this.epoch = epoch;
          this.published.clear();
          this.statePublishedAt.clear();
          this.stateOwed.clear();
          this.upstream.hold(new Set(CURRENCIES));
          this.answerRequests(bus);
        },
        lost: () => {
          this.upstream.stop();
          this.requestSub?.unsubscribe();
          this.requestSub = null;
        },
        log: o.log,
      });
      this.lease = lease;
      lease.start();
    }
  }

  private requestSub: { unsubscribe(): void } | null = null;

  /** Ingest, while holding the lease: the edges' requests, answered as the relay answers its screens. */
  private answerRequests(bus: NatsBus): void {
    this.requestSub?.unsubscribe();
    this.requestSub = bus.nc.subscribe(subjects.requests(this.def.venue), {
      callback: (err, m) => {
        if (err) return;
        let q: { rpc?: { method?: unknown; params?: unknown }; rest?: { path?: unknown; query?: unknown } };
        try {
          q = JSON.parse(Buffer.from(m.data).toString()) as typeof q;
        } catch {
          return;
        }
        const params = typeof q.rpc?.params === 'object' && q.rpc.params !== null ? (q.rpc.params as Record<string, unknown>) : {};
        const answer: Promise<unknown> | undefined = q.rpc && typeof q.rpc.method === 'string'
          ? this.request(q.rpc.method, params) ?? Promise.resolve({ error: { code: -32601, message: 'Method not found' } })
          : q.rest && typeof q.rest.path === 'string' && typeof q.rest.query === 'string'
            ? this.rest(q.rest.path, new URLSearchParams(q.rest.query))
            : undefined;
        void answer?.then((a) => m.respond(JSON.stringify(a)), () => m.respond(JSON.stringify({ error: { code: -32603, message: 'ingest failed' } })));
      },
    });
  }

  /**
   * Any topic the venue's protocol reads as one: the relay's client decides what it subscribes upstream
   * (what the app subscribes), and a topic naming a currency starts that currency's client. A topic
   * naming none (Binance's `!optionSymbol` listing stream) gets what the clients of held currencies get.
   */
  serves(): boolean {
    return true;
  }

  subscribed(s: VenueSession, keys: readonly string[]): void {
    const books = this.spec.books;
    for (const key of keys) {
      const c = currencyOf(key);
      if (c) this.upstream.start(c, true);
      const at = `${s.path} ${key}`;
      if (books?.handles(key)) {
        if (!books.pushOnSubscribe(key, this.seenPushed.has(at))) continue;
        const state = this.books.get(at);
        const text = state === undefined ? null : books.snapshotText(key, state);
        if (text !== null) s.push(key, text, true, true);
        continue;
      }
      for (const b of this.bursts.get(at)?.frames ?? []) s.push(key, b);
    }
  }

  /** Each second: the currencies the screens hold, for the upstream's multiplexing. */
  tick(tickNo: number): void {
    // an ingest process holds every currency while it holds the lease (the lease decides, not screens)
    if (tickNo % 10 !== 0 || this.lease) return;
    const held = new Set<Currency>();
    for (const s of this.hub.sessions) {
      let h = this.held.get(s);
      if (!h || h.size !== s.subs.size) {
        h = { size: s.subs.size, currencies: new Set() };
        for (const k of s.subs) {
          const c = currencyOf(k);
          if (c) h.currencies.add(c);
        }
        this.held.set(s, h);
      }
      for (const c of h.currencies) held.add(c);
    }
    this.upstream.hold(held);
  }

  /** A frame the upstream received: its topic and venue stamp read, relayed. */
  private frame(c: Currency, path: string, text: string, frame: Record<string, unknown>): void {
    const key = this.spec.topicOf(frame);
    if (key !== null) this.relay(c, path, key, Buffer.from(text), this.def.stampOf(frame), frame);
  }

  /**
   * A pushed frame: the venue clock follows it; a book's is folded (`frame`: the bytes parsed, given for
   * books), any other kept as its topic's latest burst; relayed to the screens on its topic, and
   * published while this process holds the venue's lease.
   */
  private relay(c: Currency, path: string, key: string, bytes: Buffer, stampMs: number | null, frame: Record<string, unknown> | null): void {
    this.clock.note(stampMs);
    const at = `${path} ${key}`;
    const books = this.spec.books;
    const isBook = books?.handles(key) === true;
    if (isBook) {
      if (!frame) return;
      this.books.set(at, books!.fold(this.books.get(at), frame));
      if (books!.isSnapshot(frame)) this.seenPushed.add(at);
    } else {
      const now = Date.now();
      const b = this.bursts.get(at);
      if (!b || now - b.at > BURST_GAP_MS || b.frames.length >= BURST_MAX_FRAMES) this.bursts.set(at, { at: now, frames: [bytes] });
      else {
        b.frames.push(bytes);
        b.at = now;
      }
    }
    if (this.lease?.held) this.publish(c, path, key, at, bytes, stampMs, isBook);
    if (!this.hub.dataOn) return;
    for (const s of this.hub.sessions) {
      if (s.path !== path || !s.subs.has(key)) continue;
      if (s.push(key, bytes, isBook, true)) this.delivered++;
      else this.skipped++;
    }
  }

  /**
   * Ingest: a frame on its topic's NATS subject with the topic's next sequence (taken even when the
   * frame is shed, so edges see the gap), and a book's state after it: at the topic's first frame, a
   * second after the last, and after any shed frame of it (an edge missing frames starts again from a
   * state). A trade tape's frames are never shed: each trade counts in the flow model.
   */
  private publish(c: Currency, path: string, key: string, at: string, bytes: Buffer, stampMs: number | null, isBook: boolean): void {
    const bus = this.bus!;
    const prev = this.published.get(at);
    const token = prev?.token ?? topicToken(path, key);
    const seq = { epoch: this.epoch, n: (prev?.n ?? 0) + 1 };
    this.published.set(at, { ...seq, token });
    const sent = bus.publish(subjects.frame(this.def.venue, c, token), bytes, seqHeader(seq, stampMs), this.spec.isTape(key));
    if (!isBook) return;
    if (!sent) {
      this.stateOwed.add(at);
      return;
    }
    const now = Date.now();
    const last = this.statePublishedAt.get(at);
    if (last !== undefined && now - last < STATE_EVERY_MS && !this.stateOwed.has(at)) return;
    const state = this.spec.books!.snapshotText(key, this.books.get(at));
    if (state === null) return;
    // whether the venue pushes this book's snapshots itself (else a screen reads it over REST)
    bus.publish(subjects.state(this.def.venue, c, token), Buffer.from(state), seqHeader(seq, stampMs, this.seenPushed.has(at)), true);
    this.statePublishedAt.set(at, now);
    this.stateOwed.delete(at);
  }

  /** Edge: a frame or a book's state from NATS (a book's bytes are parsed here: the fold reads them). */
  private fromNats(c: Currency, path: string, key: string, bytes: Buffer, stampMs: number | null, state: { pushed: boolean } | null): void {
    let frame: Record<string, unknown> | null = null;
    if (state || this.spec.books?.handles(key)) {
      try {
        const v: unknown = JSON.parse(bytes.toString());
        if (typeof v === 'object' && v !== null && !Array.isArray(v)) frame = v as Record<string, unknown>;
      } catch {
        // counted below
      }
      if (!frame) {
        this.unreadable++;
        return;
      }
    }
    if (state) this.lastState(path, key, bytes, frame!, state.pushed);
    else this.relay(c, path, key, bytes, stampMs, frame);
  }

  /**
   * Edge: a book topic's state as the holder folded it (read when this edge took the currency, or when
   * the book was out of step): the fold starts again from it, and the screens on the topic get it as a
   * snapshot where a subscriber gets one (the others read the fold over REST when their own sequence
   * check finds the gap).
   */
  private lastState(path: string, key: string, bytes: Buffer, frame: Record<string, unknown>, pushed: boolean): void {
    const books = this.spec.books;
    if (!books?.handles(key)) return;
    const at = `${path} ${key}`;
    this.books.set(at, books.fold(undefined, frame));
    if (pushed) this.seenPushed.add(at);
    if (!books.pushOnSubscribe(key, this.seenPushed.has(at))) return;
    for (const s of this.hub.sessions) if (s.path === path && s.subs.has(key)) s.push(key, bytes, true, true);
  }

  /** A currency's upstream stopped: its books and last frames are old now. */
  private forget(c: Currency): void {
    for (const m of [this.books, this.bursts]) for (const at of [...m.keys()]) if (currencyOf(at.slice(at.indexOf(' ') + 1)) === c) m.delete(at);
  }

  /** Deribit: an allow-listed public method, from the cache or upstream once. */
  request(method: string, params: Record<string, unknown>): Promise<RpcReply> | undefined {
    if (!RELAYED_DERIBIT_METHODS.has(method)) return undefined;
    const c = currencyOf(JSON.stringify(params)) ?? 'BTC';
    return this.rpcCache.get(rpcKey(method, params), () => this.upstream.rpc(c, method, params), (a) => 'resultRaw' in a);
  }

  private clientAnswer(method: string, params: unknown, a: RpcAnswer): void {
    if (RELAYED_DERIBIT_METHODS.has(method) && 'resultRaw' in a) this.rpcCache.put(rpcKey(method, params), a);
  }

  /**
   * A venue REST read (`path` below the venue's REST prefix): a book read from the fold while it is
   * whole, else the allow-listed call from the cache or upstream once (a book's answer is folded).
   */
  rest(path: string, q: URLSearchParams): Promise<RestAnswer> {
    const books = this.spec.books;
    const read = books?.restTopic?.(path, q);
    if (read) {
      const at = `${read.path} ${read.key}`;
      const state = this.books.get(at);
      if (books!.whole?.(state) && books!.restAnswer) return Promise.resolve(books!.restAnswer(state, q));
    }
    const allowed = this.def.rest?.relayPaths.get(path);
    if (!allowed || !this.restBase || !this.bucket) return Promise.resolve({ status: 404, body: { error: 'not a relayed path' } });
    const restBase = this.restBase;
    const bucket = this.bucket;
    const up = this.upstream;
    return this.restCache.get(`${path}?${canonicalQuery(q)}`, async () => {
      // an edge asks the lease holder, which asks the venue (allow-list and budget there too)
      const a = up instanceof NatsUpstream
        ? await up.ask<RestAnswer>({ rest: { path, query: q.toString() } }, (message) => ({ status: 502, body: { error: message } }))
        : await relayGet(restBase, path, q, allowed, bucket, this.fetchImpl);
      if (read && a.status === 200) {
        const snap = books!.restFrame?.(read.key, a.body);
        const at = `${read.path} ${read.key}`;
        if (snap) this.books.set(at, books!.fold(this.books.get(at), snap));
      }
      return a;
    }, (a) => a.status === 200);
  }

  /** The upstream clients' REST reads: through the same cache as the screens'. */
  private readonly clientFetch: FetchJson = async (url) => {
    const prefix = this.def.rest?.prefix ?? '';
    const { path, query } = localRestPath(this.def.venue, url);
    const a = await this.rest(path.slice(prefix.length), new URLSearchParams(query));
    if (a.status !== 200) throw new Error(`HTTP ${a.status}`);
    return a.body;
  };

  info(now = Date.now()): RelayVenueInfo {
    const up = this.upstream;
    const health = Object.fromEntries(Object.entries(up.health()).map(([c, h]) => [c, { ...h, silent: h.state === 'open' && now - (h.lastDataAt ?? h.since) > UPSTREAM_SILENT_MS }]));
    return {
      upstream: health,
      connections: up.openSockets(),
      connects: up.counts.connects,
      sent: up.counts.sent,
      received: up.counts.received,
      cacheHits: this.rpcCache.hits + this.restCache.hits,
      cacheMisses: this.rpcCache.misses + this.restCache.misses,
      delivered: this.delivered,
      skipped: this.skipped,
      nats: this.natsInfo(),
    };
  }

  private natsInfo(): RelayVenueInfo['nats'] {
    const bus = this.bus;
    if (!bus) return undefined;
    if (this.upstream instanceof NatsUpstream) {
      const n = this.upstream.counts;
      return { role: 'edge', duplicates: n.duplicates, bookGaps: n.bookGaps, resyncs: n.resyncs, unreadable: this.unreadable };
    }
    const p = bus.publishing;
    return { role: 'ingest', published: p.frames, shed: p.shed, sheddingSpells: p.sheddingSpells, backlogBytes: bus.backlogBytes(), maxBacklogBytes: p.maxBacklogBytes };
  }

  stop(): void {
    // a clean exit frees the lease at once: another ingest process takes over without waiting for it to expire
    if (this.lease) this.bus!.beforeClose(this.lease.stop(true));
    this.upstream.stop();
  }
}

/** A request's cache key: method and params with their keys in order. */
function rpcKey(method: string, params: unknown): string {
  const p = typeof params === 'object' && params !== null ? (params as Record<string, unknown>) : {};
  return `${method} ${JSON.stringify(p, Object.keys(p).sort())}`;
}
