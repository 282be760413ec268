/**
 * Test doubles for venue clients: a fake clock whose timers run only when advanced, a fake socket that
 * records what the client sends (and when, given a clock), and a sink that records every call. Used by
 * every venue client test, ManagedSocket's and the venue-time guard's; FakeClock is also the clock of
 * the worker and state tests. Imported by tests only.
 */
import type { Clock, FeedEvent, FeedSink, SocketLike } from './adapter.ts';
import type { FetchJson } from './rest-fetch.ts';
import type { Currency, ForwardUpdate, OptionInstrument, OptionLineUpdate, PerpQuote, TapeTrade, VenueId } from '../chain/model.ts';

export class FakeClock implements Clock {
  t: number;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  constructor(start = Date.UTC(2023, 11, 1)) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }
  get pending(): number {
    return this.timers.size;
  }
  /** Runs every timer due up to now + ms, in time order (timers set while running included). */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | null = null;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at || (e[1].at === next[1].at && e[0] < next[0]))) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = end;
  }
}

export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: string[] = [];
  /** Clock time of each `sent` message (NaN without a clock). */
  sentAt: number[] = [];
  closed: { code?: number; reason?: string } | null = null;
  onopen: ((ev: unknown) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  /** Handlers as first attached, so a test can play a late frame of a socket the client detached. */
  captured: { onmessage: ((ev: { data: unknown }) => void) | null; onclose: ((ev: { code: number; reason: string }) => void) | null } = {
    onmessage: null,
    onclose: null,
  };
  constructor(
    readonly url: string,
    private readonly clock?: Clock,
  ) {}
  send(data: string): void {
    this.sent.push(data);
    this.sentAt.push(this.clock ? this.clock.now() : NaN);
  }
  close(code?: number, reason?: string): void {
    this.closed = { code, reason };
    this.readyState = 3;
  }
  open(): void {
    this.captured = { onmessage: this.onmessage, onclose: this.onclose };
    this.readyState = 1;
    this.onopen?.({});
  }
  receive(data: unknown): void {
    this.onmessage?.({ data });
  }
  serverClose(code = 1006, reason = ''): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

export function fakeSockets(clock?: Clock): { factory: (url: string) => FakeSocket; sockets: FakeSocket[] } {
  const sockets: FakeSocket[] = [];
  return {
    sockets,
    factory: (url: string) => {
      const s = new FakeSocket(url, clock);
      sockets.push(s);
      return s;
    },
  };
}

export class RecordingSink implements FeedSink {
  instrumentCalls: { venue: VenueId; currency: Currency; list: OptionInstrument[]; complete: boolean }[] = [];
  optionUpdates: OptionLineUpdate[] = [];
  forwardUpdates: ForwardUpdate[] = [];
  indexes: { price: number; timestampMs: number }[] = [];
  perps: PerpQuote[] = [];
  /** Every trade handed over, in order, with the currency it was handed over for. */
  tapeTrades: (TapeTrade & { currency: Currency })[] = [];
  events: FeedEvent[] = [];
  instruments(venue: VenueId, currency: Currency, list: OptionInstrument[], complete: boolean): void {
    this.instrumentCalls.push({ venue, currency, list, complete });
  }
  options(_venue: VenueId, updates: OptionLineUpdate[]): void {
    this.optionUpdates.push(...updates);
  }
  forwards(_venue: VenueId, _currency: Currency, updates: ForwardUpdate[]): void {
    this.forwardUpdates.push(...updates);
  }
  index(_venue: VenueId, _currency: Currency, price: number, timestampMs: number): void {
    this.indexes.push({ price, timestampMs });
  }
  perp(quote: PerpQuote): void {
    this.perps.push(quote);
  }
  trades(_venue: VenueId, currency: Currency, trades: TapeTrade[]): void {
    for (const t of trades) this.tapeTrades.push({ ...t, currency });
  }
  status(_venue: VenueId, event: FeedEvent): void {
    this.events.push(event);
  }
  count(kind: FeedEvent['kind']): number {
    return this.events.filter((e) => e.kind === kind).length;
  }
  /** The events of one kind, in order. */
  ofKind<K extends FeedEvent['kind']>(kind: K): Extract<FeedEvent, { kind: K }>[] {
    return this.events.filter((e): e is Extract<FeedEvent, { kind: K }> => e.kind === kind);
  }
  drops(): string[] {
    return this.events.flatMap((e) => (e.kind === 'dropped' ? [e.reason] : []));
  }
}

/** Lets pending promise callbacks (a fake fetch) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/**
 * Watches a promise driven by a fake clock: `out` fills with its value or error when it settles, so a
 * test can advance the clock and look (a history page waits its turn on the feed's clock).
 */
export function settle<T>(p: Promise<T>): { value?: T; error?: Error } {
  const out: { value?: T; error?: Error } = {};
  p.then(
    (v) => (out.value = v),
    (e: Error) => (out.error = e),
  );
  return out;
}

/** `settle`, after the pending callbacks ran. */
export async function settled<T>(p: Promise<T>): Promise<{ value?: T; error?: Error }> {
  const out = settle(p);
  for (let i = 0; i < 10; i++) await flush();
  return out;
}

/**
 * What a venue client test wires a BTC feed with: a fake clock at `startMs`, fake sockets that stamp
 * what they are sent with it, a recording sink, random fixed at 0.5 (backoff waits are exact) and a REST stub that logs every URL it is asked
 * for and answers with `answer(url)` (a throw is a failed request).
 */
export function feedRig(startMs: number, answer: (url: string) => unknown) {
  const clock = new FakeClock(startMs);
  const { factory, sockets } = fakeSockets(clock);
  const sink = new RecordingSink();
  const urls: string[] = [];
  const fetchJson: FetchJson = async (url) => {
    urls.push(url);
    return answer(url);
  };
  const options = { currency: 'BTC' as const, clock, socketFactory: factory, sink, random: () => 0.5, fetchJson };
  return { clock, sockets, sink, urls, options };
}
