/**
 * Venue time through the EngineHost and the real venue clients, on a fake clock (issue #6): a venue
 * running 480x that drops and comes back hours later (venue time) is followed at once, and one corrupt
 * far-future frame still moves nothing.
 */
import { describe, expect, it } from 'vitest';
import { EngineHost, expiryLabel } from './host.ts';
import type { FromWorker, ResultMessage, ViewSelection } from './protocol.ts';
import { deribitAdapter } from '../feeds/deribit/index.ts';
import { FakeClock, fakeSockets, type FakeSocket } from '../feeds/testing.ts';

const HOUR = 3_600_000;
const SPEED = 480;
const TICK_MS = 100;
/** A Friday 06:00 UTC of a replayed 2024: the 20DEC24 options expire two venue hours in. */
const VENUE_START = Date.UTC(2024, 11, 20, 6, 0, 0);
const EXPIRIES = [Date.UTC(2024, 11, 20, 8), Date.UTC(2024, 11, 27, 8), Date.UTC(2025, 0, 31, 8)];
const STRIKES = [90_000, 100_000, 110_000];
const SPOT = 100_000;

const instrumentRows = () =>
  EXPIRIES.flatMap((e) => STRIKES.flatMap((k) => (['C', 'P'] as const).map((t) => ({
    instrument_name: `BTC-${expiryLabel(e)}-${k}-${t}`, kind: 'option', strike: k, expiration_timestamp: e,
    contract_size: 1, option_type: t === 'C' ? 'call' : 'put',
  }))));

/**
 * A small Deribit behind fake sockets whose clock runs SPEED x the fake local clock: it answers the
 * client's requests (hello with `usOut` unless told not to) and pushes markprice and index every tick.
 */
class MiniDeribit {
  venueMs = VENUE_START;
  private answered = new WeakMap<FakeSocket, number>();
  constructor(private readonly usOut: boolean) {}

  private listed() {
    return instrumentRows().filter((r) => r.expiration_timestamp > this.venueMs);
  }

  private reply(s: FakeSocket, id: number, result: unknown): void {
    const us = this.usOut ? { usIn: this.venueMs * 1000, usOut: this.venueMs * 1000 + 3, usDiff: 3 } : {};
    s.receive(JSON.stringify({ jsonrpc: '2.0', id, result, ...us, testnet: false }));
  }

  /** Answers what the client sent since the last call. */
  serve(s: FakeSocket): void {
    const from = this.answered.get(s) ?? 0;
    this.answered.set(s, s.sent.length);
    for (const raw of s.sent.slice(from)) {
      const m = JSON.parse(raw) as { id: number; method: string; params: { channels?: string[] } };
      switch (m.method) {
        case 'public/get_instruments':
          this.reply(s, m.id, this.listed());
          break;
        case 'public/get_book_summary_by_currency':
          this.reply(s, m.id, this.listed().map((r, k) => ({
            instrument_name: r.instrument_name, mark_iv: 50 + (k % 5), open_interest: 100 + k, underlying_price: SPOT * 1.001,
            estimated_delivery_price: SPOT, creation_timestamp: this.venueMs, mark_price: 0.05,
          })));
          break;
        case 'public/subscribe':
        case 'public/unsubscribe':
          this.reply(s, m.id, m.params.channels ?? []);
          break;
        case 'public/hello':
          this.reply(s, m.id, { version: '1.2.26' });
          break;
        default:
          this.reply(s, m.id, 'ok');
      }
    }
  }

  push(s: FakeSocket, stampMs = this.venueMs): void {
    const note = (channel: string, data: unknown) => s.receive(JSON.stringify({ jsonrpc: '2.0', method: 'subscription', params: { channel, data } }));
    note('markprice.options.btc_usd', this.listed().map((r) => ({ instrument_name: r.instrument_name, mark_price: 0.05, iv: 0.5, timestamp: stampMs })));
    note('deribit_price_index.btc_usd', { index_name: 'btc_usd', price: SPOT, timestamp: stampMs });
  }
}

function setup(usOut: boolean) {
  const clock = new FakeClock(Date.UTC(2030, 0, 1)); // the wall clock is years after the venue's
  const { factory, sockets } = fakeSockets();
  const posted: FromWorker[] = [];
  const host: EngineHost = new EngineHost({
    clock, socketFactory: factory, localBase: 'ws://127.0.0.1:1', adapters: [deribitAdapter],
    feedOptions: { random: () => 0.5 },
    post: (msg) => {
      posted.push(msg);
      if (msg.type === 'result') queueMicrotask(() => host.handle({ type: 'ack', seq: msg.seq }));
    },
  });
  const selection: ViewSelection = { source: 'replay', venues: ['deribit'], currency: 'BTC', expiries: [], model: 'classic', profileRange: 0.2 };
  host.handle({ type: 'select', selection });
  const venue = new MiniDeribit(usOut);
  const open = new Set<FakeSocket>();
  /** `ms` of local time in ticks: the venue moves SPEED x; the open socket is served and fed. */
  const run = async (ms: number, feed = true) => {
    for (let t = 0; t < ms; t += TICK_MS) {
      clock.advance(TICK_MS);
      venue.venueMs += SPEED * TICK_MS;
      const s = sockets.at(-1)!;
      if (feed && open.has(s) && s.readyState === 1) {
        venue.serve(s);
        venue.push(s);
      }
      await Promise.resolve(); // acks
    }
  };
  const openLatest = () => {
    const s = sockets.at(-1)!;
    s.open();
    open.add(s);
    venue.serve(s);
  };
  const results = () => posted.filter((m): m is ResultMessage => m.type === 'result');
  return { clock, host, venue, sockets, run, openLatest, results };
}

describe('venue time through the host and the real Deribit client at 480x', () => {
  for (const usOut of [true, false]) {
    it(`a reconnect 10 venue hours later is followed (${usOut ? 'at once: hello usOut anchors' : 'from the second tick: no server time'}); one corrupt frame still moves nothing`, async () => {
      const { host, venue, sockets, run, openLatest, results } = setup(usOut);
      openLatest();
      await run(5_000);
      let r = results().at(-1)!;
      expect(r.gex.includedLines).toBe(18);
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect(r.expiries[0].expiryMs).toBe(EXPIRIES[0]);
      const before = results().length;

      // The server goes away; the client redials (and its dials time out) for 30 s of local time,
      // 4 h of venue time, and the replay comes back 6 h further on (restarted later): the 08:00
      // expiry passes meanwhile. Only a re-anchor follows that (the venue's pace covers the 4 h).
      sockets.at(-1)!.serverClose(1006, 'gone');
      await run(30_000, false);
      expect(host.health()[0].state).not.toBe('connected');
      venue.venueMs += 6 * HOUR;
      openLatest();
      await run(2_000);
      r = results().at(-1)!;
      expect(results().length).toBeGreaterThan(before + 3);
      // The figures follow the venue again: valuation within one recompute period of its clock.
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect(r.gex.nowMs).toBeGreaterThan(EXPIRIES[0]);
      expect(r.expiries.map((x) => x.expiryMs)).toEqual(EXPIRIES.slice(1));
      expect(r.gex.includedLines).toBe(12);
      const h = host.health()[0];
      expect(h.state).toBe('connected');
      expect(h.reconnects).toBeGreaterThanOrEqual(1);
      // With server time nothing is held; without, the first tick's frames (summary, markprice,
      // index, one stamp) wait for the next tick's.
      const held = h.dropped.futureTimestamp ?? 0;
      if (usOut) expect(held).toBe(0);
      else expect(held).toBeGreaterThan(0);
      expect(held).toBeLessThanOrEqual(4);

      // One frame stamped an hour ahead: refused, counted, and the stream goes on around it.
      const s = sockets.at(-1)!;
      venue.push(s, venue.venueMs + HOUR);
      await run(1_000);
      r = results().at(-1)!;
      expect(venue.venueMs - r.gex.nowMs).toBeLessThanOrEqual(SPEED * 400);
      expect((host.health()[0].dropped.futureTimestamp ?? 0) - held).toBe(2); // its markprice and index frames
      expect(r.expiries.map((x) => x.expiryMs)).toEqual(EXPIRIES.slice(1));
    });
  }
});
