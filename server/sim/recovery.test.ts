/**
 * Recovery (issue 13, "Done means"): aggregating the simulator's own published tape with the app's
 * parser (src/feeds/deribit/trades.ts), tape (src/chain/tape.ts) and the engine's flow model, over a
 * window covering the whole history the venue keeps, gives the hidden dealer positions of every line
 * listed inside the window - when every trade has the dealer passive: no customer-to-customer trades
 * AND no dealer-as-taker trades (the model takes the passive side to be the dealer, so a dealer that
 * takes is read with the wrong sign; the second test shows it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../server.ts';
import { TestClient } from '../testing/test-client.ts';
import { parseTradesPage } from '../../src/feeds/deribit/trades.ts';
import { aggregateTape } from '../../src/chain/tape.ts';
import type { TapeTrade } from '../../src/chain/model.ts';
import { chainFromLines } from '../../src/engine/fixtures.ts';
import { flowPosition, summarisePositioning } from '../../src/engine/flow-model.ts';
import { parseInstrumentName } from './calendar.ts';
import { MarketSim } from './market.ts';

const START = Date.parse('2026-12-09T13:30:00Z');
type BookAnswer = { timeMs: number; historyStartMs: number; lines: { instrument: string; listedMs: number; expiryMs: number; dealer: number; openInterest: number }[] };

let srv: RunningServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

/** Every trade in [from, to] over the socket, pages of 1000 by time, as the app fetches them. */
async function fetchTape(c: TestClient, from: number, to: number): Promise<TapeTrade[]> {
  const out: TapeTrade[] = [];
  let start = from;
  for (;;) {
    const r = await c.call('public/get_last_trades_by_currency_and_time', { currency: 'BTC', kind: 'option', start_timestamp: start, end_timestamp: to, count: 1000, sorting: 'asc' });
    const dropped: Record<string, number> = {};
    const page = parseTradesPage(r.result, 'BTC', dropped);
    expect(dropped).toEqual({});
    out.push(...page!.trades);
    if (!page!.hasMore) return out;
    start = page!.trades[page!.trades.length - 1].timestampMs; // repeats at the boundary are counted once by the tape
  }
}

describe('the flow model recovers the hidden dealer book from the published tape', () => {
  it('every line listed inside the window: q = the dealer position; shares add up to 1', async () => {
    srv = await startServer({ source: 'sim', seed: 42, port: 0, startMs: START, trades: { customerMakerShare: 0, customerToCustomerShare: 0 } });
    await fetch(srv.url + '/__sim/pause', { method: 'POST' });
    const book = (await (await fetch(`${srv.url}/__gexdesk/book?venue=deribit&currency=BTC`)).json()) as BookAnswer;
    const now = book.timeMs;
    const w0 = book.historyStartMs;
    const listed = book.lines.filter((l) => l.expiryMs > now);
    const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
    const trades = await fetchTape(c, w0, now);
    c.close();

    const chain = chainFromLines(
      listed.map((l) => {
        const p = parseInstrumentName(l.instrument)!;
        return { strike: p.strike!, expiryMs: p.expiryMs!, isCall: p.isCall!, markIv: 0.5, forward: p.strike!, openInterest: l.openInterest };
      }),
    );
    chain.listedMs = Float64Array.from(listed, (l) => l.listedMs);
    const index = new Map(listed.map((l, i) => [l.instrument, i]));
    const tape = aggregateTape(trades, (t) => index.get(t.instrument), listed.length, w0, now);
    expect(tape.skipped.duplicate).toBeGreaterThan(0); // page boundaries repeat trades: counted once

    let whole = 0;
    for (let i = 0; i < listed.length; i++) {
      if (listed[i].listedMs < w0) continue;
      const p = flowPosition(chain, tape.lines, i);
      expect(p.seen).toBe('whole');
      expect(p.q).toBeCloseTo(listed[i].dealer, 6);
      whole++;
    }
    // the three cases all occur: lines listed inside the window, before it, and before it with no trade
    expect(whole).toBeGreaterThan(50);
    const all = Int32Array.from(listed.keys());
    const pos = summarisePositioning(chain, tape.lines, all, all.length);
    expect(pos.seenWhole).toBeGreaterThan(0);
    expect(pos.seenInPart).toBeGreaterThan(0);
    expect(pos.assumed).toBeGreaterThan(0);
    expect(pos.seenWhole + pos.seenInPart + pos.assumed).toBeCloseTo(1, 12);
    expect(pos.trades).toBe(tape.counted);
  });

  it('with the dealer sometimes the taker, the model misreads those lines (why customerMakerShare must be 0 for recovery)', () => {
    const sim = new MarketSim({ seed: 42, startMs: START, trades: { customerMakerShare: 0.3, customerToCustomerShare: 0 } });
    const book = sim.deribitBook;
    const w0 = book.historyStartMs();
    let wrong = 0;
    for (const l of book.knownLines('BTC')) {
      if (l.def.createdMs < w0 || l.def.expiryMs <= START) continue;
      let n = 0;
      book.each('BTC', w0, START, (t) => void (t.line === l && (n += t.takerSide === 'buy' ? t.amount : -t.amount)));
      if (Math.abs(-n - book.dealerPosition(l)) > 1e-6) wrong++;
    }
    expect(wrong).toBeGreaterThan(0);
  });
});
