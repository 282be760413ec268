import { describe, expect, it } from 'vitest';
import { VenueTime, guardSink, type VenueTimeRefusal } from './venue-time.ts';
import { VENUE_TIME_MAX_AHEAD_MS } from './limits.ts';
import { FakeClock, RecordingSink } from './testing.ts';

const V0 = Date.UTC(2021, 6, 22, 22, 0, 0); // venue clock (a replay of 2021)
const L0 = Date.UTC(2030, 0, 1); // local clock, years later
const HOUR = 3_600_000;

/** Frames every `stepMs` of local time from a venue running `speed` x; returns the verdicts. */
function stream(vt: VenueTime, from: { venue: number; local: number }, speed: number, n: number, stepMs = 100) {
  const verdicts: string[] = [];
  let venue = from.venue;
  let local = from.local;
  for (let i = 0; i < n; i++) {
    venue += speed * stepMs;
    local += stepMs;
    verdicts.push(vt.admit(venue, local));
  }
  return { venue, local, verdicts };
}

describe('VenueTime', () => {
  it('starts at the first stamp; older stamps are accepted but never move it back', () => {
    const vt = new VenueTime();
    expect(vt.nowMs).toBeNull();
    expect(vt.admit(V0, L0)).toBe('accepted');
    expect(vt.admit(V0 - 5_000, L0 + 10)).toBe('accepted');
    expect(vt.nowMs).toBe(V0);
    expect(vt.admit(V0 + 59_000, L0 + 20)).toBe('accepted');
    expect(vt.nowMs).toBe(V0 + 59_000);
  });

  it('refuses non-numbers and non-positive stamps without moving', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    for (const bad of [NaN, Infinity, -1, 0]) expect(vt.admit(bad, L0)).toBe('badTimestamp');
    expect(vt.nowMs).toBe(V0);
    expect(vt.anchor(NaN, L0)).toBe(false);
  });

  it('one frame stamped an hour ahead is refused and blocks nothing; copies of it never confirm', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    expect(vt.admit(V0 + HOUR, L0 + 100)).toBe('futureTimestamp');
    expect(vt.admit(V0 + HOUR, L0 + 110)).toBe('futureTimestamp');
    expect(vt.admit(V0 + HOUR, L0 + 120)).toBe('futureTimestamp');
    expect(vt.nowMs).toBe(V0);
    expect(vt.admit(V0 + 200, L0 + 200)).toBe('accepted');
    expect(vt.nowMs).toBe(V0 + 200);
    // An ordinary frame between two corrupt ones cancels the first: they never add up.
    expect(vt.admit(V0 + HOUR + 100, L0 + 300)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 300, L0 + 350)).toBe('accepted');
    expect(vt.admit(V0 + HOUR + 200, L0 + 400)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 400, L0 + 450)).toBe('accepted');
    expect(vt.nowMs).toBe(V0 + 400);
  });

  it('a jump within a connection (replay seek) is followed after two later frames, at any speed', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    const to = V0 + 2 * HOUR;
    expect(vt.admit(to, L0 + 100)).toBe('futureTimestamp');
    expect(vt.admit(to + 100, L0 + 200)).toBe('futureTimestamp');
    expect(vt.admit(to + 200, L0 + 300)).toBe('accepted');
    expect(vt.nowMs).toBe(to + 200);
    // Local time is not part of it: the same at a burst of frames 1 ms apart.
    const fast = new VenueTime();
    fast.admit(V0, L0);
    expect([fast.admit(to, L0 + 1), fast.admit(to + 48_000, L0 + 2), fast.admit(to + 96_000, L0 + 3)])
      .toEqual(['futureTimestamp', 'futureTimestamp', 'accepted']);
  });

  it('follows a 480x venue through scheduling stalls: the allowance grows with the pace it has kept', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    // 3 s of frames 100 ms apart (48 s of venue time each): all ordinary.
    const a = stream(vt, { venue: V0, local: L0 }, 480, 30);
    expect(a.verdicts.every((v) => v === 'accepted')).toBe(true);
    // A 400 ms stall: the next frame is 192 s ahead, far over 60 s, yet within 2 x pace x elapsed.
    expect(vt.allowanceMs(a.local + 400)).toBeGreaterThan(192_000);
    expect(vt.admit(a.venue + 192_000, a.local + 400)).toBe('accepted');
    expect(vt.nowMs).toBe(a.venue + 192_000);
    // At that pace an hour-ahead stamp 100 ms later is still refused.
    expect(vt.admit(a.venue + 192_000 + HOUR, a.local + 500)).toBe('futureTimestamp');
    // At 1x the allowance stays the 60 s floor.
    const slow = new VenueTime();
    slow.admit(V0, L0);
    const b = stream(slow, { venue: V0, local: L0 }, 1, 30);
    expect(slow.allowanceMs(b.local + 400)).toBe(VENUE_TIME_MAX_AHEAD_MS);
  });

  it('the pace counts ordinary steps only: a seek does not inflate it, and it survives the seek', () => {
    // A 1x replay that seeks 2 h ahead: after the seek an hour-ahead stamp is still refused.
    const slow = new VenueTime();
    slow.admit(V0, L0);
    const a = stream(slow, { venue: V0, local: L0 }, 1, 30);
    for (let k = 0; k < 3; k++) slow.admit(a.venue + 2 * HOUR + k * 100, a.local + 100 + k * 100);
    expect(slow.nowMs).toBe(a.venue + 2 * HOUR + 200);
    expect(slow.pace()).toBe(1);
    expect(slow.admit(a.venue + 3 * HOUR + 300, a.local + 2_000)).toBe('futureTimestamp');
    // A 480x replay keeps its pace across a seek: a 300 ms stall right after it is ordinary.
    const fast = new VenueTime();
    fast.admit(V0, L0);
    const b = stream(fast, { venue: V0, local: L0 }, 480, 30);
    for (let k = 0; k < 3; k++) fast.admit(b.venue + 5 * HOUR + k * 48_000, b.local + 100 + k * 100);
    const t = b.venue + 5 * HOUR + 96_000;
    expect(fast.nowMs).toBe(t);
    expect(fast.pace()).toBeCloseTo(480, 6);
    expect(fast.admit(t + 144_000, b.local + 300 + 300)).toBe('accepted');
  });

  it('a new connection re-anchors: a gap of any length is followed from one later frame; a corrupt first frame is not', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    // Within a connection, a 6 h jump needs two later frames.
    expect(vt.admit(V0 + 6 * HOUR, L0 + 1_000)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 6 * HOUR + 100, L0 + 1_100)).toBe('futureTimestamp');
    vt.newConnection();
    // After a reconnect (1x, so the pace allowance is the 60 s floor) one later frame confirms it.
    expect(vt.admit(V0 + 6 * HOUR + 200, L0 + 1_200)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 6 * HOUR + 300, L0 + 1_300)).toBe('accepted');
    expect(vt.nowMs).toBe(V0 + 6 * HOUR + 300);
    // ... and then the connection is anchored: the next jump needs two again.
    expect(vt.admit(V0 + 7 * HOUR, L0 + 1_400)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 7 * HOUR + 100, L0 + 1_500)).toBe('futureTimestamp');
    expect(vt.nowMs).toBe(V0 + 6 * HOUR + 300);
    // A corrupt first frame of a new connection: the next ordinary frame cancels it.
    const other = new VenueTime();
    other.admit(V0, L0);
    other.newConnection();
    expect(other.admit(V0 + HOUR, L0 + 500)).toBe('futureTimestamp');
    expect(other.admit(V0 + 600, L0 + 600)).toBe('accepted');
    expect(other.admit(V0 + HOUR + 100, L0 + 700)).toBe('futureTimestamp');
    expect(other.nowMs).toBe(V0 + 600);
  });

  it('the pace carries across a reconnect: a 480x venue back after 30 s (4 h of venue time) is ordinary at once', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    const a = stream(vt, { venue: V0, local: L0 }, 480, 30);
    vt.newConnection();
    expect(vt.admit(a.venue + 480 * 30_000, a.local + 30_000)).toBe('accepted');
  });

  it('server time read on the connection anchors the guard; venue time itself stays the newest frame stamp', () => {
    const vt = new VenueTime();
    vt.admit(V0, L0);
    vt.newConnection();
    expect(vt.anchor(V0 + 5 * HOUR, L0 + 2_000)).toBe(true);
    expect(vt.nowMs).toBe(V0);
    // Even the connection's first data frame is guarded, from the server's time.
    expect(vt.admit(V0 + 6 * HOUR, L0 + 2_010)).toBe('futureTimestamp');
    expect(vt.admit(V0 + 5 * HOUR - 100, L0 + 2_020)).toBe('accepted');
    expect(vt.nowMs).toBe(V0 + 5 * HOUR - 100);
    // Server time behind (a clock a little behind the stamps) never moves anything back.
    vt.anchor(V0, L0 + 3_000);
    expect(vt.nowMs).toBe(V0 + 5 * HOUR - 100);
    expect(vt.admit(V0 + 5 * HOUR + 30_000, L0 + 3_010)).toBe('accepted');
  });
});

describe('guardSink', () => {
  function guarded() {
    const clock = new FakeClock(L0);
    const inner = new RecordingSink();
    const vt = new VenueTime();
    const drops: VenueTimeRefusal[] = [];
    const sink = guardSink(inner, vt, clock, (reason) => drops.push(reason));
    return { clock, inner, vt, drops, sink };
  }
  const line = (ts: number) => ({ name: 'BTC-27DEC24-100000-C', timestampMs: ts, markIv: 0.5 });

  it('admits every stamped call first: a refused one is dropped, answered false and never reaches the sink', () => {
    const { clock, inner, vt, drops, sink } = guarded();
    expect(sink.index('deribit', 'BTC', 100_000, V0)).toBeUndefined(); // taken: the sink's own answer
    clock.advance(100);
    expect(sink.index('deribit', 'BTC', 99_999, V0 + HOUR)).toBe(false);
    expect(sink.options('deribit', [line(V0 + 50), line(V0 + HOUR)])).toBe(false); // a batch by its newest stamp
    expect(sink.forwards('deribit', 'BTC', [{ expiryMs: V0 + 9 * HOUR, forward: 1, timestampMs: V0 + HOUR }])).toBe(false);
    expect(sink.perp({ venue: 'deribit', instrument: 'BTC-PERPETUAL', timestampMs: NaN, markPrice: 1, indexPrice: 1, funding8h: null, openInterestCoin: null, bestBid: null, bestAsk: null, depth: [] }, 'BTC')).toBe(false);
    expect(drops).toEqual(['futureTimestamp', 'futureTimestamp', 'futureTimestamp', 'badTimestamp']);
    expect(inner.indexes).toEqual([{ price: 100_000, timestampMs: V0 }]);
    expect(inner.optionUpdates).toEqual([]);
    expect(inner.forwardUpdates).toEqual([]);
    expect(inner.perps).toEqual([]);
    expect(vt.nowMs).toBe(V0);
    // Ordinary frames pass; an empty batch is not a stamp and passes through unjudged.
    expect(sink.options('deribit', [line(V0 + 200)])).toBeUndefined();
    expect(sink.options('deribit', [])).toBeUndefined();
    expect(inner.optionUpdates).toEqual([line(V0 + 200)]);
    expect(vt.nowMs).toBe(V0 + 200);
    expect(drops).toHaveLength(4);
  });

  it('judges trades one by one: one ahead of venue time is dropped and counted, the rest reach the tape', () => {
    const { clock, inner, vt, drops, sink } = guarded();
    const trade = (id: string, ts: number) => ({ venue: 'deribit' as const, instrument: 'BTC-27DEC24-100000-C', tradeId: id, timestampMs: ts, takerSide: 'buy' as const, contracts: 1, block: false });
    sink.index('deribit', 'BTC', 100_000, V0);
    clock.advance(100);
    // An older trade is taken (trades lag the tickers) and does not move venue time back.
    expect(sink.trades('deribit', 'BTC', [trade('1', V0 - 2_000), trade('2', V0 + HOUR), trade('3', NaN), trade('4', V0 + 50)])).toBeUndefined();
    expect(inner.tapeTrades.map((t) => t.tradeId)).toEqual(['1', '4']);
    expect(drops).toEqual(['futureTimestamp', 'badTimestamp']);
    expect(vt.nowMs).toBe(V0 + 50);
    // A push whose every trade is refused is answered false.
    expect(sink.trades('deribit', 'BTC', [trade('5', V0 + HOUR + 1)])).toBe(false);
    // Trades never confirm a jump, however many of one push climb: the frames lead venue time.
    const climbing = Array.from({ length: 6 }, (_, i) => trade(`j${i}`, V0 + HOUR + 10 * (i + 2)));
    expect(sink.trades('deribit', 'BTC', climbing)).toBe(false);
    expect(vt.nowMs).toBe(V0 + 50);
    expect(drops.filter((d) => d === 'futureTimestamp')).toHaveLength(8);
  });

  it('re-anchors on a new connection and on the server time read on it; a bad server time is a drop', () => {
    const { clock, inner, vt, drops, sink } = guarded();
    sink.index('deribit', 'BTC', 100_000, V0);
    clock.advance(1_000);
    sink.status('deribit', { kind: 'open' });
    sink.status('deribit', { kind: 'serverTime', timestampMs: V0 + 5 * HOUR });
    // The connection's first frame at the venue's new time is taken at once.
    expect(sink.index('deribit', 'BTC', 100_001, V0 + 5 * HOUR + 100)).toBeUndefined();
    expect(vt.nowMs).toBe(V0 + 5 * HOUR + 100);
    sink.status('deribit', { kind: 'serverTime', timestampMs: NaN });
    expect(drops).toEqual(['badTimestamp']);
    // The sink hears of every event, after the guard.
    expect(inner.events.map((e) => e.kind)).toEqual(['open', 'serverTime', 'serverTime']);
    // Without the anchor the same gap needs later frames to confirm it.
    const plain = guarded();
    plain.sink.index('deribit', 'BTC', 100_000, V0);
    plain.sink.status('deribit', { kind: 'open' });
    expect(plain.sink.index('deribit', 'BTC', 100_001, V0 + 5 * HOUR + 100)).toBe(false);
  });
});
