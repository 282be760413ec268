/**
 * An edge's upstream (`--role edge`): the venue's frames from NATS instead of the venue. The currencies
 * its screens hold are followed (a currency no screen holds is let go a grace period later, as the
 * embedded relay's upstream does): live frames of the currency's topics, after the last value of each
 * topic read from the stream (books as their folded state). Each frame goes on at most once per topic
 * (the holder's per-topic sequence), so a frame seen both in the last values and live, or sent again
 * by a holder that lost its lease, does not reach a screen twice; nor does a venue frame that two
 * holders both received while one took over from the other (below). Requests go to the lease holder.
 * Health: the lease holder's view of the venue (in its lease entry); no holder reads as reconnecting.
 */
import type { MsgHdrs, Subscription } from 'nats';
import type { Currency } from '../../src/chain/model.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { LEASE_REFRESH_MS, seqAfter, seqOf, stampOf, subjects, tokenTopic, type LeaseValue, type NatsBus, type Seq } from './nats.ts';
import { releaseUnheld, type RpcAnswer, type Upstream, type UpstreamState } from './upstream.ts';

const REQUEST_TIMEOUT_MS = 10_000;
/** A book state's subject (`gexdesk.<venue>.<currency>.s.<topic>`), not a frame's (`.f.`). */
function isState(subject: string): boolean {
  const i = subject.lastIndexOf('.');
  return subject[i - 1] === 's' && subject[i - 2] === '.';
}
const LEASE_POLL_MS = 250;
/** A lease entry whose revision has not moved for this long: its holder stopped refreshing it (three missed refreshes). */
const HOLDER_SILENT_MS = LEASE_REFRESH_MS * 3;

export interface EdgeOptions {
  venue: VenueId;
  graceMs: number;
  /**
   * A topic's kind: `book`, snapshot then deltas (its frames must follow one another, else it waits for a
   * state); `tape`, trades (each frame counts; the page's tape holds each trade once by its venue id);
   * `latest`, any other (each frame a newer state of the topic: tickers, marks, summaries, the index).
   */
  topicKind(key: string): TopicKind;
  /**
   * A live frame (`state` null) or a book topic's state (the holder's fold as a snapshot; `pushed`: the
   * venue pushes that book's snapshots itself), with the venue stamp the holder read from it.
   */
  onFrame(currency: Currency, path: string, key: string, bytes: Buffer, stampMs: number | null, state: { pushed: boolean } | null): void;
  onStop?(currency: Currency): void;
  log?(line: string): void;
}

type TopicKind = 'book' | 'tape' | 'latest';

/** A topic as its subject token names it: the screen path, the subscription key, and its kind. */
interface Topic {
  path: string;
  key: string;
  kind: TopicKind;
}

interface Message {
  subject: string;
  data: Uint8Array;
  headers: MsgHdrs | undefined;
}

interface Following {
  sub: Subscription;
  /** Per topic token: the newest sequence delivered. */
  seen: Map<string, Seq>;
  /** Per book topic out of step (frames missed: a shed, a new holder, a start): its frames since, until a state. */
  waiting: Map<string, Message[]>;
  /** Per `latest` topic: the newest venue stamp passed on. */
  newest: Map<string, number>;
  /**
   * Per `latest` topic a new holder has taken over: the newest stamp passed on before it. Its frames up
   * to that stamp are ones the old holder already passed on (both held the venue for a moment, or the
   * new one's connection lags): dropped until one is newer.
   */
  overlap: Map<string, number>;
  lastDataAt: number | null;
  since: number;
  unheldSince: number | null;
}

/** A book waiting for its state holds at most this many frames (a state comes within about a second). */
const HELD_MAX = 2_000;

export class NatsUpstream implements Upstream {
  private readonly following = new Map<Currency, Following>();
  private holder: LeaseValue | null = null;
  private readonly leaseTimer: ReturnType<typeof setInterval>;
  /** Topic tokens decoded, with their kind (a venue has a few thousand topics; each frame names one). */
  private readonly topics = new Map<string, Topic | null>();
  readonly counts = { connects: 0, sent: 0, received: 0, duplicates: 0, bookGaps: 0, resyncs: 0 };

  constructor(
    private readonly bus: NatsBus,
    private readonly o: EdgeOptions,
  ) {
    // a holder refreshes its entry each second: one not refreshed for a while is dead or cut off (its
    // entry outlives it by the lease's life), and the venue reads as reconnecting from then on. Timed
    // by this process's clock (when the revision last moved), not the entry's stamp: no clock skew.
    let revision = 0;
    let movedAt = 0;
    const readLease = () =>
      void bus.lease.get(o.venue).then(
        (e) => {
          const now = Date.now();
          if (!e || e.operation !== 'PUT') {
            this.holder = null;
            return;
          }
          if (e.revision !== revision) {
            revision = e.revision;
            movedAt = now;
          }
          this.holder = now - movedAt <= HOLDER_SILENT_MS ? (e.json() as LeaseValue) : null;
        },
        () => (this.holder = null),
      );
    readLease();
    this.leaseTimer = setInterval(readLease, LEASE_POLL_MS);
  }

  openSockets(): number {
    return 0;
  }

  health(): Partial<Record<Currency, UpstreamState>> {
    return Object.fromEntries(
      [...this.following].map(([c, f]) => {
        const held = this.holder?.upstream[c];
        const state: UpstreamState = this.holder === null
          ? { state: 'reconnecting', reason: `no ingest process holds ${this.o.venue} (lease free or not refreshed)`, lastDataAt: f.lastDataAt, since: f.since }
          : { state: (held?.state as UpstreamState['state'] | undefined) ?? 'connecting', reason: held?.reason ?? null, lastDataAt: f.lastDataAt, since: f.since };
        return [c, state];
      }),
    );
  }

  hold(held: ReadonlySet<Currency>, now = Date.now()): void {
    for (const c of held) this.start(c, true);
    releaseUnheld(this.following, held, now, this.o.graceMs, (c) => this.stopCurrency(c));
  }

  start(c: Currency, held = false): void {
    const have = this.following.get(c);
    if (have) {
      // as the embedded relay's upstream: a request keeps an unheld currency a grace period from now
      if (held) have.unheldSince = null;
      else if (have.unheldSince !== null) have.unheldSince = Date.now();
      return;
    }
    const v = this.o.venue;
    // live frames and states are held back until the last values are in, then the same per-topic order applies
    let backlog: Message[] | null = [];
    const f: Following = {
      sub: this.bus.nc.subscribe(subjects.lastValues(v, c), {
        callback: (err, m) => {
          if (err) return;
          const msg = { subject: m.subject, data: m.data, headers: m.headers };
          this.counts.received++;
          if (backlog) backlog.push(msg);
          else this.deliver(c, f, msg);
        },
      }),
      seen: new Map(),
      waiting: new Map(),
      newest: new Map(),
      overlap: new Map(),
      lastDataAt: null,
      since: Date.now(),
      unheldSince: held ? null : Date.now(),
    };
    this.following.set(c, f);
    this.counts.connects++;
    this.o.log?.(`relay: ${v} ${c} from NATS`);
    void this.bus.nc
      .flush()
      .then(() => this.bus.lastValues(v, c))
      .then(
        (last) => {
          if (this.following.get(c) !== f) return;
          // book states before the frames of the same topics: the frames they already hold are dropped by sequence
          for (const m of [...last.filter((x) => isState(x.subject)), ...last.filter((x) => !isState(x.subject))]) this.deliver(c, f, m);
        },
        (e: unknown) => this.o.log?.(`relay: ${v} ${c}: last values from NATS failed (${String(e).slice(0, 120)}); following live frames only`),
      )
      .finally(() => {
        const b = backlog ?? [];
        backlog = null;
        for (const m of b) this.deliver(c, f, m);
      });
  }

  private topicOf(token: string): Topic | null {
    let t = this.topics.get(token);
    if (t === undefined) {
      const decoded = tokenTopic(token);
      t = decoded && { ...decoded, kind: this.o.topicKind(decoded.key) };
      if (this.topics.size > 50_000) this.topics.clear();
      this.topics.set(token, t);
    }
    return t;
  }

  /**
   * A frame or a state from NATS, once per topic and in the holder's order. A book's frames go on only
   * one after another: past a missed one the book waits for a state (the holder publishes one after any
   * shed, at a new holder's first frame, and each second), starts again from it and goes on with the
   * frames that follow it.
   */
  private deliver(c: Currency, f: Following, m: Message): void {
    const token = m.subject.slice(m.subject.lastIndexOf('.') + 1);
    const topic = this.topicOf(token);
    if (!topic) return;
    const seq = seqOf(m.headers);
    const last = f.seen.get(token);
    const { kind } = topic;
    const book = kind === 'book';
    const stamp = stampOf(m.headers);
    if (isState(m.subject)) {
      // a state serves a book out of step (or never in step); one in step has had every frame it holds
      if (!seq || !book || (last !== undefined && !f.waiting.has(token)) || !seqAfter(seq, last)) return;
      const held = f.waiting.get(token) ?? [];
      if (f.waiting.delete(token)) this.counts.resyncs++;
      f.seen.set(token, seq);
      this.pass(c, f, topic, m, stamp, { pushed: m.headers?.get('gx-pushed') === '1' });
      for (const h of held) this.deliver(c, f, h);
      return;
    }
    if (seq) {
      if (!seqAfter(seq, last)) {
        this.counts.duplicates++;
        return;
      }
      if (book) {
        const held = f.waiting.get(token);
        if (held) {
          if (held.length >= HELD_MAX) held.shift();
          held.push(m);
          return;
        }
        if (last === undefined || last.epoch !== seq.epoch || seq.n !== last.n + 1) {
          this.counts.bookGaps++;
          f.waiting.set(token, [m]);
          return;
        }
      }
      if (kind === 'latest' && last !== undefined && seq.epoch !== last.epoch) {
        const newest = f.newest.get(token);
        if (newest !== undefined) f.overlap.set(token, newest);
      }
      f.seen.set(token, seq);
    }
    if (kind === 'latest') {
      if (stamp !== null) {
        const upTo = f.overlap.get(token);
        if (upTo !== undefined && stamp <= upTo) {
          this.counts.duplicates++;
          return;
        }
        f.overlap.delete(token);
        if (stamp > (f.newest.get(token) ?? -Infinity)) f.newest.set(token, stamp);
      }
    }
    this.pass(c, f, topic, m, stamp, null);
  }

  private pass(c: Currency, f: Following, topic: Topic, m: Message, stamp: number | null, state: { pushed: boolean } | null): void {
    f.lastDataAt = Date.now();
    this.o.onFrame(c, topic.path, topic.key, Buffer.from(m.data), stamp, state);
  }

  private stopCurrency(c: Currency): void {
    const f = this.following.get(c);
    if (!f) return;
    this.following.delete(c);
    f.sub.unsubscribe();
    this.o.onStop?.(c);
    this.o.log?.(`relay: ${this.o.venue} ${c} from NATS stopped (no screen for ${this.o.graceMs} ms)`);
  }

  stop(): void {
    clearInterval(this.leaseTimer);
    for (const c of [...this.following.keys()]) this.stopCurrency(c);
  }

  /** A request to the lease holder (a Deribit method or a REST read), its answer as the holder gives it. */
  async ask<T>(body: unknown, failed: (message: string) => T): Promise<T> {
    this.counts.sent++;
    try {
      const m = await this.bus.nc.request(subjects.requests(this.o.venue), JSON.stringify(body), { timeout: REQUEST_TIMEOUT_MS });
      return JSON.parse(Buffer.from(m.data).toString()) as T;
    } catch (e) {
      return failed(/503|no responders/i.test(String(e)) ? `no ingest process holds ${this.o.venue}` : `no answer from the ingest process in time`);
    }
  }

  rpc(c: Currency, method: string, params: unknown): Promise<RpcAnswer> {
    return this.ask<RpcAnswer>({ rpc: { currency: c, method, params } }, (message) => ({ error: { code: -32603, message } }));
  }
}
