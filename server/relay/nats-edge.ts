/**
 * An edge's upstream (`--role edge`): the venue's frames from NATS instead of the venue. The currencies
 * its screens hold are followed (a currency no screen holds is let go a grace period later, as the
 * embedded relay's upstream does): live frames of the currency's topics, after the last value of each
 * topic read from the stream (books as their folded state). Each frame goes on at most once per topic
 * (the holder's per-topic sequence), so a frame seen both in the last values and live, or sent again
 * by a holder that lost its lease, does not reach a screen twice. Requests go to the lease holder.
 * Health: the lease holder's view of the venue (in its lease entry); no holder reads as reconnecting.
 */
import type { Subscription } from 'nats';
import type { Currency } from '../../src/chain/model.ts';
import type { VenueId } from '../../src/shared/venues.ts';
import { LEASE_REFRESH_MS, seqAfter, seqOf, subjects, tokenTopic, type LeaseValue, type NatsBus, type Seq } from './nats.ts';
import { releaseUnheld, type RpcAnswer, type Upstream, type UpstreamState } from './upstream.ts';

const REQUEST_TIMEOUT_MS = 10_000;
const LEASE_POLL_MS = 250;
/** A lease entry whose revision has not moved for this long: its holder stopped refreshing it (three missed refreshes). */
const HOLDER_SILENT_MS = LEASE_REFRESH_MS * 3;

export interface EdgeOptions {
  venue: VenueId;
  graceMs: number;
  /**
   * A live frame (`state` null) or a book topic's last state read at start (the holder's fold as a
   * snapshot; `pushed`: the venue pushes that book's snapshots itself).
   */
  onFrame(currency: Currency, path: string, text: string, frame: Record<string, unknown>, state: { pushed: boolean } | null): void;
  onStop?(currency: Currency): void;
  log?(line: string): void;
}

interface Following {
  sub: Subscription;
  /** Per topic token: the newest sequence delivered. */
  seen: Map<string, Seq>;
  lastDataAt: number | null;
  since: number;
  unheldSince: number | null;
}

export class NatsUpstream implements Upstream {
  private readonly following = new Map<Currency, Following>();
  private holder: LeaseValue | null = null;
  private readonly leaseTimer: ReturnType<typeof setInterval>;
  readonly counts = { connects: 0, sent: 0, received: 0, duplicates: 0 };

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
      if (held) have.unheldSince = null;
      return;
    }
    const v = this.o.venue;
    // live frames are held back until the last values are in, then the same per-topic order applies
    let backlog: { subject: string; data: Uint8Array; seq: Seq | null }[] | null = [];
    const f: Following = {
      sub: this.bus.nc.subscribe(subjects.frames(v, c), {
        callback: (err, m) => {
          if (err) return;
          const seq = seqOf(m.headers);
          if (backlog) backlog.push({ subject: m.subject, data: m.data, seq });
          else this.deliver(c, f, m.subject, m.data, seq, null);
        },
      }),
      seen: new Map(),
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
          const isState = (s: string) => s.split('.')[3] === 's';
          for (const m of [...last.filter((x) => isState(x.subject)), ...last.filter((x) => !isState(x.subject))]) {
            this.deliver(c, f, m.subject, m.data, seqOf(m.headers), isState(m.subject) ? { pushed: m.headers?.get('gx-pushed') === '1' } : null);
          }
        },
        (e: unknown) => this.o.log?.(`relay: ${v} ${c}: last values from NATS failed (${String(e).slice(0, 120)}); following live frames only`),
      )
      .finally(() => {
        const b = backlog ?? [];
        backlog = null;
        for (const m of b) this.deliver(c, f, m.subject, m.data, m.seq, null);
      });
  }

  private deliver(c: Currency, f: Following, subject: string, data: Uint8Array, seq: Seq | null, state: { pushed: boolean } | null): void {
    this.counts.received++;
    const token = subject.slice(subject.lastIndexOf('.') + 1);
    if (seq) {
      if (!seqAfter(seq, f.seen.get(token))) {
        this.counts.duplicates++;
        return;
      }
      f.seen.set(token, seq);
    }
    const topic = tokenTopic(token);
    if (!topic) return;
    const text = Buffer.from(data).toString();
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return;
    f.lastDataAt = Date.now();
    this.o.onFrame(c, topic.path, text, frame as Record<string, unknown>, state);
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
