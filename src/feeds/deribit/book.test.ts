import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DeribitBookChain, parseBookData, type BookData } from './book.ts';
import { sampleDir } from '../../../test/samples.ts';

const tardis = JSON.parse(
  readFileSync(sampleDir('deribit') + 'tardis-node-mapper-test-messages.json', 'utf8'),
) as { messages: { params: { channel: string; data: unknown } }[] };
const perpBooks = tardis.messages.filter((m) => m.params.channel === 'book.ETH-PERPETUAL.raw').map((m) => m.params.data);

function must(data: unknown): BookData {
  const r = parseBookData(data);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function snap(changeId: number, bids: [number, number][], asks: [number, number][]) {
  return {
    type: 'snapshot',
    timestamp: 1_700_000_000_000,
    instrument_name: 'BTC-PERPETUAL',
    change_id: changeId,
    bids: bids.map(([p, a]) => ['new', p, a]),
    asks: asks.map(([p, a]) => ['new', p, a]),
  };
}

describe('parseBookData on real frames', () => {
  it('reads the recorded ETH-PERPETUAL snapshot (no type field) and change', () => {
    const s = must(perpBooks[0]);
    expect(s.isSnapshot).toBe(true);
    expect(s.changeId).toBe(1776289261);
    expect(s.bids[0]).toEqual(['new', 217.8, 1895]);
    expect(s.asks[0]).toEqual(['new', 218.6, 179803]);
    const c = must(perpBooks[1]);
    expect(c.isSnapshot).toBe(false);
    expect(c.prevChangeId).toBe(1776294621);
    expect(c.bids).toEqual([['delete', 217.8, 0]]);
  });

  it('the recorded pair is not consecutive (1776289261 -> prev 1776294621): a gap', () => {
    const book = new DeribitBookChain(true);
    expect(book.apply(must(perpBooks[0]))).toBe('applied');
    expect(book.top().bestBid).toBe(217.8);
    expect(book.apply(must(perpBooks[1]))).toBe('gap');
    expect(book.hasSnapshot).toBe(false);
    expect(book.top()).toEqual({ bestBid: null, bestAsk: null, depth: [] });
  });

  it('rejects bad entries without throwing', () => {
    const base = snap(1, [[100, 10]], [[101, 10]]);
    expect(parseBookData({ ...base, bids: [['new', -1, 10]] })).toEqual({ ok: false, reason: 'badNumber' });
    expect(parseBookData({ ...base, bids: [['new', 100, Infinity]] })).toEqual({ ok: false, reason: 'badNumber' });
    expect(parseBookData({ ...base, bids: [['add', 100, 1]] })).toEqual({ ok: false, reason: 'malformed' });
    expect(parseBookData({ ...base, asks: 'x' })).toEqual({ ok: false, reason: 'malformed' });
    expect(parseBookData({ ...base, change_id: 'NaN' })).toEqual({ ok: false, reason: 'badNumber' });
    expect(parseBookData(null)).toEqual({ ok: false, reason: 'malformed' });
  });
});

describe('DeribitBookChain', () => {
  it('applies a chained change and computes depth in coin (USD / price) within the bands of mid', () => {
    const book = new DeribitBookChain(true);
    // mid = 100000; bands: 0.5 % -> [99500, 100500], 1 % -> [99000, 101000], 2 % -> [98000, 102000]
    book.apply(must(snap(10, [[99_990, 100_000], [99_400, 99_400], [98_500, 985_000], [97_000, 1e9]], [[100_010, 200_020], [101_500, 101_500]])));
    expect(book.apply(must({ type: 'change', timestamp: 1_700_000_000_100, instrument_name: 'BTC-PERPETUAL', change_id: 11, prev_change_id: 10, bids: [['change', 99_990, 199_980]], asks: [['new', 100_400, 100_400]] }))).toBe('applied');
    const d = book.top().depth;
    expect(d.map((b) => b.bandPct)).toEqual([0.5, 1, 2]);
    expect(d[0].bidCoin).toBeCloseTo(199_980 / 99_990, 9); // 2
    expect(d[0].askCoin).toBeCloseTo(2 + 1, 9);
    expect(d[1].bidCoin).toBeCloseTo(2 + 1, 9);
    expect(d[1].askCoin).toBeCloseTo(3, 9);
    expect(d[2].bidCoin).toBeCloseTo(3 + 10, 9);
    expect(d[2].askCoin).toBeCloseTo(3 + 1, 9);
  });

  it('the same change delivered twice is a duplicate, not a gap', () => {
    const book = new DeribitBookChain(true);
    book.apply(must(snap(4, [[100, 10]], [[101, 1]])));
    const change = { type: 'change', timestamp: 1_700_000_000_100, instrument_name: 'BTC-PERPETUAL', change_id: 5, prev_change_id: 4, bids: [['change', 100, 20]], asks: [] };
    expect(book.apply(must(change))).toBe('applied');
    expect(book.apply(must(change))).toBe('duplicate');
    expect(book.hasSnapshot).toBe(true);
    expect(book.apply(must({ ...change, change_id: 6, prev_change_id: 5 }))).toBe('applied');
  });

  it('a change before any snapshot is refused; delete removes a level', () => {
    const book = new DeribitBookChain(true);
    const change = { type: 'change', timestamp: 1_700_000_000_100, instrument_name: 'BTC-PERPETUAL', change_id: 5, prev_change_id: 4, bids: [], asks: [] };
    expect(book.apply(must(change))).toBe('noSnapshot');
    book.apply(must(snap(4, [[100, 10], [99, 5]], [[101, 1]])));
    expect(book.apply(must({ ...change, bids: [['delete', 100, 0]] }))).toBe('applied');
    expect(book.top().bestBid).toBe(99);
  });

  it('keeps memory bounded by evicting the farthest levels', () => {
    const book = new DeribitBookChain(false, 50);
    const bids: [number, number][] = [];
    for (let i = 0; i < 500; i++) bids.push([10_000 - i, 1]);
    book.apply(must(snap(1, bids, [[10_001, 1]])));
    expect(book.book.bids()).toHaveLength(50);
    expect(book.top().bestBid).toBe(10_000);
    expect(book.evicted).toBe(450);
  });

  it('reports every band of the whole book, but only the bands a trimmed book still reaches', () => {
    const bids: [number, number][] = [];
    for (let i = 0; i < 100; i++) bids.push([10_000 - i, 1]);
    const whole = new DeribitBookChain(false, 200);
    whole.apply(must(snap(1, bids, [[10_001, 1]])));
    // mid 10 000.5: the book ends 1 % below it and at the touch above; the venue has nothing further.
    expect(whole.top().depth.map((b) => [b.bandPct, b.bidCoin, b.askCoin])).toEqual([[0.5, 50, 1], [1, 100, 1], [2, 100, 1]]);
    const trimmed = new DeribitBookChain(false, 60);
    trimmed.apply(must(snap(1, bids, [[10_001, 1]])));
    // The far 40 levels are ours to drop, not the venue's: beyond the kept edge nothing is known.
    expect(trimmed.top().depth).toEqual([]);
  });
});
