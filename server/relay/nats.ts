/**
 * Relays past one machine (issue 16, part 3): NATS between the processes that hold the venues and the
 * processes that serve screens. The official `nats` client; the server is Debian's `nats-server` with
 * JetStream (`-js`).
 *
 * - Frames: an ingest process publishes every pushed frame its upstream receives on
 *   `gexdesk.<venue>.<currency>.f.<topic>` (topic: the screen path and subscription key, base64url, so
 *   one subject per venue topic), with a sequence per topic in the `gx-seq` header: `<epoch>.<n>`, the
 *   epoch being the lease revision its holder won (greater for every new holder), so an edge drops a
 *   frame it has already delivered, or one from a holder that has lost the lease. A book topic's state
 *   after each frame (the fold, as a snapshot) goes on `gexdesk.<venue>.<currency>.s.<topic>`.
 * - Last values: the stream `GEXDESK_LAST` keeps the last message of every such subject, so an edge
 *   taking a currency first reads the state of each of its topics from NATS (books from their `s`
 *   subjects) and then follows the live frames; no cache of ours holds them for late joiners.
 * - Lease: one ingest process per venue holds the upstream: the key `<venue>` in the KV bucket
 *   `gexdesk-lease` (entries live 3 s), created by the holder and refreshed each second with its health;
 *   when the holder dies the key expires and another ingest process creates it (a new epoch).
 * - Requests: Deribit's public methods and the REST reads an edge cannot answer go to the lease holder
 *   on `gexdesk.<venue>.req` (request/reply), which answers them as a relay does (allow-list, cache).
 */
import { AckPolicy, connect, type ConnectionOptions, DeliverPolicy, DiscardPolicy, headers, nanos, StorageType, type JetStreamClient, type JetStreamManager, type KV, type MsgHdrs, type NatsConnection } from 'nats';
import type { Currency } from '../../src/chain/model.ts';
import type { VenueId } from '../../src/shared/venues.ts';

export type NatsRole = 'ingest' | 'edge';

export const FRAMES_STREAM = 'GEXDESK_LAST';
export const LEASE_BUCKET = 'gexdesk-lease';
/**
 * A lease entry lives this long unless refreshed: a dead holder's lease is free this long after its
 * last refresh. Four refreshes' worth: a holder on a loaded machine (the bench's, load 9 on two cores)
 * lagged past 3 s and lost its own lease.
 */
export const LEASE_TTL_MS = 4_000;
export const LEASE_REFRESH_MS = 1_000;
/**
 * An ingest process holds at most this many bytes published but not yet taken by the NATS server (its
 * socket and the client's buffer); past it, frames are shed (counted) until the server has caught up to
 * half of it. About two seconds of all four venues at their real rates: a congested link or server
 * costs frames, never the ingest's memory or every screen's latency.
 */
export const PUBLISH_BACKLOG_BYTES = 16 * 1024 * 1024;
/** How often the ingest asks the server how far it has read (a PING; the PONG comes after all before it). */
const BACKLOG_PROBE_MS = 100;

/** A per-topic sequence: the holder's epoch (its lease revision), then the frame's number. */
export interface Seq {
  epoch: number;
  n: number;
}

export function seqAfter(a: Seq, b: Seq | undefined): boolean {
  return b === undefined || a.epoch > b.epoch || (a.epoch === b.epoch && a.n > b.n);
}

/**
 * A published frame's headers: its sequence, and the venue stamp it carries (`gx-ts`, so an edge keeps
 * the venue clock without parsing the frame); a book state's, whether the venue pushes that book's
 * snapshots itself (`gx-pushed`).
 */
export function seqHeader(s: Seq, stampMs: number | null = null, pushed = false): MsgHdrs {
  const h = headers();
  h.set('gx-seq', `${s.epoch}.${s.n}`);
  if (stampMs !== null) h.set('gx-ts', String(stampMs));
  if (pushed) h.set('gx-pushed', '1');
  return h;
}

export function seqOf(h: MsgHdrs | undefined): Seq | null {
  const m = /^(\d+)\.(\d+)$/.exec(h?.get('gx-seq') ?? '');
  return m ? { epoch: Number(m[1]), n: Number(m[2]) } : null;
}

export function stampOf(h: MsgHdrs | undefined): number | null {
  const v = h?.get('gx-ts');
  const ms = v ? Number(v) : NaN;
  return Number.isFinite(ms) ? ms : null;
}

/** The subject token of a topic (screen path and key): base64url, one token whatever the key holds. */
export function topicToken(path: string, key: string): string {
  return Buffer.from(`${path} ${key}`).toString('base64url');
}

export function tokenTopic(token: string): { path: string; key: string } | null {
  const s = Buffer.from(token, 'base64url').toString();
  const i = s.indexOf(' ');
  return i > 0 ? { path: s.slice(0, i), key: s.slice(i + 1) } : null;
}

export const subjects = {
  frame: (v: VenueId, c: Currency, token: string) => `gexdesk.${v}.${c}.f.${token}`,
  state: (v: VenueId, c: Currency, token: string) => `gexdesk.${v}.${c}.s.${token}`,
  /** Every frame and book state of a venue's currency (live, and their last values in the stream). */
  lastValues: (v: VenueId, c: Currency) => `gexdesk.${v}.${c}.*.*`,
  requests: (v: VenueId) => `gexdesk.${v}.req`,
};

/** The lease holder's entry: who holds it, and its upstream's state per currency (edges show it to screens). */
export interface LeaseValue {
  holder: string;
  upstream: Partial<Record<Currency, { state: string; reason: string | null }>>;
}

/** How a process reaches NATS (`--nats`, `--role`, `--nats-ca`, `--nats-backlog-mb`). */
export interface NatsOptions {
  /**
   * `nats://HOST:PORT` or `tls://HOST:PORT` (TLS required), with `USER:PASSWORD@` or `TOKEN@` before
   * the host where the NATS server asks for them.
   */
  url: string;
  role: NatsRole;
  /** PEM file of the certificate authority the NATS server's certificate is checked against (else the system's). */
  caFile?: string;
  /** The ingest's bound on bytes published and not yet read by the server (default PUBLISH_BACKLOG_BYTES). */
  backlogBytes?: number;
}

/** The connection options of a `--nats` URL: servers, credentials from its user part, TLS for `tls://`. */
export function natsConnectOptions(o: Pick<NatsOptions, 'url' | 'caFile'>): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(o.url);
  } catch {
    throw new Error(`--nats must be nats://HOST:PORT or tls://HOST:PORT (got ${natsUrlForLog(o.url)})`);
  }
  if (u.protocol !== 'nats:' && u.protocol !== 'tls:') throw new Error(`--nats must be nats://HOST:PORT or tls://HOST:PORT (got ${u.protocol}//…)`);
  const user = decodeURIComponent(u.username);
  const pass = decodeURIComponent(u.password);
  return {
    servers: `${u.hostname}:${u.port || 4222}`,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    ...(user && pass ? { user, pass } : user ? { token: user } : {}),
    ...(u.protocol === 'tls:' || o.caFile ? { tls: o.caFile ? { caFile: o.caFile } : {} } : {}),
  };
}

/** A `--nats` URL as it may be logged: credentials masked. */
export function natsUrlForLog(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}

/** One process's NATS connection, the frames stream and the lease bucket. */
export class NatsBus {
  private constructor(
    /** Frames, last values and requests. */
    readonly nc: NatsConnection,
    /** The lease alone: its refreshes never queue behind megabytes of frames on the data connection. */
    private readonly control: NatsConnection,
    readonly js: JetStreamClient,
    readonly jsm: JetStreamManager,
    readonly lease: KV,
    readonly role: NatsRole,
    readonly id: string,
    private readonly backlogLimit: number,
  ) {}

  static async connect(o: NatsOptions, log?: (line: string) => void): Promise<NatsBus> {
    const { role } = o;
    const server = natsConnectOptions(o);
    const nc = await connect({ ...server, name: `gexdesk-${role}-${process.pid}` });
    const control = await connect({ ...server, name: `gexdesk-${role}-${process.pid}-lease` });
    const jsm = await nc.jetstreamManager();
    const stream = {
      name: FRAMES_STREAM,
      // frames and book states: one subject pattern (a 2.9 server takes a consumer's filter only as a
      // subset of one of the stream's subjects, and an edge reads both of a currency with one filter)
      subjects: ['gexdesk.*.*.*.*'],
      max_msgs_per_subject: 1,
      storage: StorageType.Memory,
      discard: DiscardPolicy.Old,
      // a topic no holder has refreshed for an hour is no venue's state any more
      max_age: nanos(3_600_000),
    };
    try {
      await jsm.streams.info(FRAMES_STREAM);
    } catch {
      try {
        await jsm.streams.add(stream);
      } catch (e) {
        // another process made it meanwhile
        await jsm.streams.info(FRAMES_STREAM).catch(() => Promise.reject(e));
      }
    }
    const js = nc.jetstream();
    const lease = await control.jetstream().views.kv(LEASE_BUCKET, { ttl: LEASE_TTL_MS, history: 1, storage: StorageType.Memory });
    const id = `${role}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
    log?.(`nats: ${role} ${id} on ${natsUrlForLog(o.url)}`);
    return new NatsBus(nc, control, js, jsm, lease, role, id, o.backlogBytes ?? PUBLISH_BACKLOG_BYTES);
  }

  /** The last value of every topic of a venue's currency in the stream, in stream order. */
  async lastValues(v: VenueId, c: Currency): Promise<{ subject: string; data: Uint8Array; headers: MsgHdrs | undefined }[]> {
    const ci = await this.jsm.consumers.add(FRAMES_STREAM, {
      deliver_policy: DeliverPolicy.LastPerSubject,
      filter_subject: subjects.lastValues(v, c),
      ack_policy: AckPolicy.None,
      mem_storage: true,
      inactive_threshold: nanos(30_000),
    });
    const out: { subject: string; data: Uint8Array; headers: MsgHdrs | undefined }[] = [];
    try {
      let left = ci.num_pending;
      const consumer = await this.js.consumers.get(FRAMES_STREAM, ci.name);
      while (left > 0) {
        const batch = await consumer.fetch({ max_messages: Math.min(left, 1_000), expires: 2_000 });
        let got = 0;
        for await (const m of batch) {
          out.push({ subject: m.subject, data: m.data, headers: m.headers });
          got++;
        }
        if (got === 0) break;
        left -= got;
      }
    } finally {
      await this.jsm.consumers.delete(FRAMES_STREAM, ci.name).catch(() => undefined);
    }
    return out;
  }

  /** Bytes published, and published before the last PONG (the server has read those). */
  private publishedBytes = 0;
  private takenBytes = 0;
  private probe: ReturnType<typeof setTimeout> | null = null;
  /** Shedding: the backlog passed its bound and has not yet fallen to half of it. */
  private shedding = false;
  readonly publishing = { frames: 0, shed: 0, maxBacklogBytes: 0, sheddingSpells: 0 };

  /** Bytes published that the NATS server has not yet been seen to read. */
  backlogBytes(): number {
    return this.publishedBytes - this.takenBytes;
  }

  /**
   * Publishes a frame unless the backlog is over its bound (`essential`: published anyway: a book's state
   * that resynchronises edges after a shed). False when shed.
   */
  publish(subject: string, data: Uint8Array, h: MsgHdrs, essential = false): boolean {
    const backlog = this.backlogBytes();
    if (this.shedding ? backlog > this.backlogLimit / 2 : backlog > this.backlogLimit) {
      if (!this.shedding) this.publishing.sheddingSpells++;
      this.shedding = true;
      if (!essential) {
        this.publishing.shed++;
        return false;
      }
    } else this.shedding = false;
    this.nc.publish(subject, data, { headers: h });
    // subject, headers and framing: about what the protocol line adds
    this.publishedBytes += data.length + subject.length + 64;
    this.publishing.frames++;
    this.publishing.maxBacklogBytes = Math.max(this.publishing.maxBacklogBytes, this.backlogBytes());
    this.probe ??= setTimeout(() => this.measure(), BACKLOG_PROBE_MS);
    return true;
  }

  /** A PING after everything published so far: its PONG says the server has read all of it. */
  private measure(): void {
    const upTo = this.publishedBytes;
    const next = () => (this.probe = this.closed || this.backlogBytes() === 0 ? null : setTimeout(() => this.measure(), BACKLOG_PROBE_MS));
    this.nc.flush().then(() => {
      this.takenBytes = Math.max(this.takenBytes, upTo);
      next();
    }, next);
  }

  private closed = false;

  private readonly closing: Promise<unknown>[] = [];

  /** Work to finish before the connection closes (a lease given back). */
  beforeClose(p: Promise<unknown>): void {
    this.closing.push(p);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.probe) clearTimeout(this.probe);
    this.probe = null;
    await Promise.allSettled(this.closing);
    await Promise.all([this.nc, this.control].map((c) => c.drain().catch(() => c.close())));
  }
}

/**
 * An ingest process's hold on a venue: tries to create the lease key each second while it is free,
 * refreshes it each second while held (with the upstream's health), and says when it won (with its
 * epoch) or lost it. Lost: a refresh that finds another revision (another holder, or the entry
 * expired), or no refresh got through for the lease's life (it has expired: another may hold it). A
 * refresh that merely failed (a timeout, NATS away for a moment) is tried again: were two processes
 * to hold the venue meanwhile, edges hear only the newer epoch.
 */
export class VenueLease {
  private timer: ReturnType<typeof setInterval> | null = null;
  private revision = 0;
  private refreshedAt = 0;
  private busy = false;
  held = false;

  constructor(
    private readonly bus: NatsBus,
    private readonly venue: VenueId,
    private readonly o: {
      value: () => LeaseValue;
      won(epoch: number): void;
      lost(why: string): void;
      log?: (line: string) => void;
    },
  ) {}

  start(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), LEASE_REFRESH_MS);
  }

  private async beat(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    const data = new TextEncoder().encode(JSON.stringify(this.o.value()));
    try {
      if (!this.held) {
        this.revision = await this.bus.lease.create(this.venue, data);
        this.refreshedAt = Date.now();
        this.held = true;
        this.o.log?.(`nats: ${this.bus.id} holds the ${this.venue} lease (epoch ${this.revision})`);
        this.o.won(this.revision);
      } else {
        this.revision = await this.bus.lease.update(this.venue, data, this.revision);
        this.refreshedAt = Date.now();
      }
    } catch (e) {
      const taken = (e as { api_error?: { err_code?: number } }).api_error?.err_code === 10071; // wrong last sequence
      if (this.held && (taken || Date.now() - this.refreshedAt >= LEASE_TTL_MS)) {
        // expired under us (a stalled process, a congested connection): if no one else took it, it is
        // ours again at once under a new epoch, and the upstream goes on; else it is lost
        try {
          this.revision = await this.bus.lease.create(this.venue, data);
          this.refreshedAt = Date.now();
          this.o.log?.(`nats: ${this.bus.id} took the ${this.venue} lease again after it expired (epoch ${this.revision}; ${String(e).slice(0, 80)})`);
          this.o.won(this.revision);
        } catch {
          this.held = false;
          this.o.log?.(`nats: ${this.bus.id} lost the ${this.venue} lease (${String(e).slice(0, 120)})`);
          this.o.lost(String(e));
        }
      } else if (this.held) this.o.log?.(`nats: ${this.bus.id}: ${this.venue} lease refresh failed, trying again (${String(e).slice(0, 120)})`);
      // not held: another process holds it (or NATS is away); try again next beat
    } finally {
      this.busy = false;
    }
  }

  /** Stops refreshing; `release`: deletes the key so another process takes over at once (a clean exit). */
  async stop(release: boolean): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    if (release && this.held) await this.bus.lease.delete(this.venue, { previousSeq: this.revision }).catch(() => undefined);
    this.held = false;
  }
}
