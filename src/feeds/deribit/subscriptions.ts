/**
 * The channels this feed wants and what the venue acknowledged. `desired` is owned here across
 * connections; `acked` belongs to the current one. A new connection gets the whole desired set once,
 * chunked (shared/reliability.md §1.3); between, each change goes out as it happens. Every
 * (un)subscribe call goes through the socket's paced queue: public/subscribe costs 3,000 of 30,000
 * credits, so calls stay <= 3/s (deribit/limits.ts). A channel the venue does not confirm is never
 * resubscribed blindly (the caller decides); one confirmed after it stopped being wanted (a forward
 * re-picked while its subscribe was in flight) is taken back off.
 */
import type { Currency } from '../../chain/model.ts';
import type { FeedSink } from '../adapter.ts';
import { indexNameOf } from './parse.ts';

export type SubscribeMethod = 'public/subscribe' | 'public/unsubscribe';

export interface SubscriptionOptions {
  sink: FeedSink;
  channelsPerCall: number;
  /** A registered (un)subscribe request for `channels`, ready to send. */
  request: (method: SubscribeMethod, channels: string[]) => string;
  /** Sends on the current connection through the paced queue. */
  send: (message: string) => void;
  /** The venue did not confirm `channel` (already counted as a `notSubscribed` drop). */
  onRefused: (channel: string) => void;
}

/** The channels that do not depend on the listing. */
export function staticChannels(currency: Currency): string[] {
  const i = indexNameOf(currency);
  return [
    `markprice.options.${i}`,
    `deribit_price_index.${i}`,
    `ticker.${currency}-PERPETUAL.100ms`,
    `book.${currency}-PERPETUAL.100ms`,
    // The currency as documented (`BTC`): the AsyncAPI enum is BTC, ETH, USDC, USDT, any.
    `instrument.state.option.${currency}`,
    // Every public option trade of the currency (`raw` is for authorised users only).
    `trades.option.${currency}.100ms`,
  ];
}

export class DeribitSubscriptions {
  /** The channels we want, whether or not the current socket has them. */
  private readonly desired: Set<string>;
  /** Channels the venue acknowledged on the current socket. */
  private readonly acked = new Set<string>();
  /** The current connection was sent the desired set; until then a change only touches `desired`. */
  private live = false;

  constructor(
    private readonly o: SubscriptionOptions,
    initial: Iterable<string>,
  ) {
    this.desired = new Set(initial);
  }

  /** The whole desired set for a fresh connection, as subscribe calls. */
  openMessages(): string[] {
    this.live = true;
    return this.chunks('public/subscribe', [...this.desired]);
  }

  want(channels: string[]): void {
    for (const c of channels) this.desired.add(c);
    this.call('public/subscribe', channels);
  }

  /** No longer wanted: unsubscribed where the venue has them. */
  unwant(channels: string[]): void {
    for (const c of channels) this.desired.delete(c);
    this.call('public/unsubscribe', channels.filter((c) => this.acked.has(c)));
  }

  /** A fresh snapshot of one channel without a reconnect (a book gap): unsubscribe, subscribe again. */
  refresh(channel: string): void {
    this.call('public/unsubscribe', [channel]);
    this.call('public/subscribe', [channel]);
  }

  /** The venue's answer to a subscribe call for `channels`: the channels it confirmed. */
  onSubscribed(channels: string[], result: unknown): void {
    const got = new Set(Array.isArray(result) ? result.filter((c): c is string => typeof c === 'string') : []);
    const missing: string[] = [];
    for (const c of channels) {
      if (got.has(c)) this.acked.add(c);
      else missing.push(c);
    }
    for (const c of missing) {
      this.o.sink.status('deribit', { kind: 'dropped', reason: 'notSubscribed' });
      this.o.onRefused(c);
    }
    this.call('public/unsubscribe', channels.filter((c) => got.has(c) && !this.desired.has(c)));
    this.o.sink.status('deribit', { kind: 'subscribed', channels: this.acked.size });
  }

  onUnsubscribed(channels: string[]): void {
    for (const c of channels) this.acked.delete(c);
  }

  /** The connection ended: nothing is subscribed until the next one is sent the desired set. */
  reset(): void {
    this.acked.clear();
    this.live = false;
  }

  private call(method: SubscribeMethod, channels: string[]): void {
    if (!this.live) return;
    for (const m of this.chunks(method, channels)) this.o.send(m);
  }

  private chunks(method: SubscribeMethod, channels: string[]): string[] {
    const out: string[] = [];
    for (let i = 0; i < channels.length; i += this.o.channelsPerCall) out.push(this.o.request(method, channels.slice(i, i + this.o.channelsPerCall)));
    return out;
  }
}
