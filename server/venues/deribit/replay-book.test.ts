import { describe, expect, it } from 'vitest';
import { BookFold, ChannelMap, isChainedBook, splitInterval } from './replay-book.ts';

describe('which recorded channel serves a subscription', () => {
  it('the same interval when recorded, else the finest recorded one under the subscribed name', () => {
    const m = new ChannelMap();
    for (const c of ['ticker.BTC-PERPETUAL.raw', 'book.BTC-PERPETUAL.raw', 'book.BTC-PERPETUAL.100ms', 'ticker.ETH-PERPETUAL.agg2', 'markprice.options.btc_usd']) m.add(c);
    expect(m.source('ticker.BTC-PERPETUAL.100ms')).toBe('ticker.BTC-PERPETUAL.raw');
    expect(m.source('book.BTC-PERPETUAL.100ms')).toBe('book.BTC-PERPETUAL.100ms');
    expect(m.source('book.BTC-PERPETUAL.agg2')).toBe('book.BTC-PERPETUAL.raw');
    expect(m.source('ticker.ETH-PERPETUAL.raw')).toBe('ticker.ETH-PERPETUAL.agg2');
    expect(m.names('ticker.BTC-PERPETUAL.raw')).toEqual(['ticker.BTC-PERPETUAL.raw', 'ticker.BTC-PERPETUAL.100ms', 'ticker.BTC-PERPETUAL.agg2']);
    expect(m.names('book.BTC-PERPETUAL.raw')).toEqual(['book.BTC-PERPETUAL.raw', 'book.BTC-PERPETUAL.agg2']);
    expect(m.names('book.BTC-PERPETUAL.100ms')).toEqual(['book.BTC-PERPETUAL.100ms']);
    expect(m.names('markprice.options.btc_usd')).toEqual(['markprice.options.btc_usd']);
    expect(splitInterval('instrument.state.option.btc')).toEqual({ base: 'instrument.state.option.btc', interval: null });
    // a recording made while the client asked in lower case serves the documented name (`BTC`) too
    expect(m.names('instrument.state.option.btc')).toEqual(['instrument.state.option.btc', 'instrument.state.option.BTC']);
    expect(m.names('instrument.state.option.BTC')).toEqual(['instrument.state.option.BTC']);
    expect(m.names('instrument.state.any.any')).toEqual(['instrument.state.any.any']);
    expect(isChainedBook('book.BTC-PERPETUAL.100ms')).toBe(true);
    expect(isChainedBook('book.BTC-PERPETUAL.none.10.100ms')).toBe(false); // grouped: whole every time
  });
});

describe('a recorded book folded as it plays', () => {
  const snap = { type: 'snapshot', timestamp: 1000, instrument_name: 'BTC-PERPETUAL', change_id: 10, bids: [['new', 99, 5], ['new', 98, 7]], asks: [['new', 101, 3]] };
  it('a snapshot with the last change_id, levels sorted, timestamps shifted by the loop it was played in', () => {
    const f = new BookFold();
    expect(f.snapshot()).toBeNull();
    expect(f.fold(snap, 0)).toBe('snapshot');
    expect(f.fold({ type: 'change', timestamp: 1100, change_id: 12, prev_change_id: 10, bids: [['delete', 98, 0], ['new', 100, 1]], asks: [['change', 101, 4]] }, 5000)).toBe('change');
    expect(f.snapshot()).toEqual({ type: 'snapshot', timestamp: 6100, instrument_name: 'BTC-PERPETUAL', change_id: 12, bids: [['new', 100, 1], ['new', 99, 5]], asks: [['new', 101, 4]] });
  });
  it('a change that does not chain is a gap in the recording: no snapshot until the next recorded one', () => {
    const f = new BookFold();
    f.fold(snap, 0);
    expect(f.fold({ type: 'change', timestamp: 1100, change_id: 15, prev_change_id: 13, bids: [], asks: [] }, 0)).toBe('gap');
    expect(f.recordedGaps).toBe(1);
    expect(f.snapshot()).toBeNull();
    expect(f.fold({ type: 'change', timestamp: 1200, change_id: 16, prev_change_id: 15, bids: [], asks: [] }, 0)).toBe('gap');
    expect(f.fold(null, 0)).toBe('gap');
    expect(f.fold({ ...snap, change_id: 20 }, 0)).toBe('snapshot');
    expect(f.snapshot()).toMatchObject({ change_id: 20 });
    // an old capture's first message without `type` or prev_change_id is its snapshot
    const g = new BookFold();
    expect(g.fold({ timestamp: 1, instrument_name: 'X', change_id: 1, bids: [], asks: [['new', 5, 1]] }, 0)).toBe('snapshot');
  });
});
