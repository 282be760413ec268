/**
 * Deribit's public option trade history as the flow model's window needs it (design: "Dealer positions
 * from the trade tape"): `public/get_last_trades_by_currency_and_time {currency, kind: option,
 * start_timestamp, end_timestamp, count: 1000, sorting: asc}` over the feed's own socket (JSON-RPC, so
 * no REST and no CORS question), any window Deribit keeps. One call of `fetchPage` is one request, paced
 * inside Deribit's public credits (./limits.ts); the caller asks for the next page from the last
 * trade's timestamp and counts a trade once by its id (trades of that millisecond come again).
 *
 * One case would loop: a page whose trades all fall in the millisecond it started at, with more to
 * come. Asking again from that millisecond gives the same page, and time is the only cursor this
 * method has. So the rest of that millisecond beyond one page is skipped: the page goes on from the next
 * millisecond in the same call, and the skip is counted (`dropped.millisecondBeyondPage`).
 */
import type { Clock, TradeHistory, TradeHistoryPage } from '../adapter.ts';
import type { Currency, TapeTrade } from '../../chain/model.ts';
import { countDrop, isRecord } from '../frame-guard.ts';
import { RequestPacer, deadline } from '../pacer.ts';
import { oldestFirst } from '../tape-rows.ts';
import { TRADE_PAGE_COUNT, TRADE_PAGE_MIN_SPACING_MS, TRADE_PAGE_TIMEOUT_MS } from './limits.ts';
import { parseTradesPage } from './trades.ts';

export const TRADE_HISTORY_METHOD = 'public/get_last_trades_by_currency_and_time';

export interface DeribitHistoryOptions {
  currency: Currency;
  clock: Clock;
  /** Sends one request on the open connection and resolves with its `result`; rejects when there is none. */
  call: (method: string, params: Record<string, unknown>) => Promise<unknown>;
  pageSpacingMs?: number;
}

export class DeribitTradeHistory implements TradeHistory {
  readonly reach = 'window';
  readonly note = 'Deribit keeps its whole option trade history: the window fills in pages of 1,000 trades, about five pages a second';
  private readonly pacer: RequestPacer;

  constructor(private readonly o: DeribitHistoryOptions) {
    this.pacer = new RequestPacer(o.clock, o.pageSpacingMs ?? TRADE_PAGE_MIN_SPACING_MS);
  }

  async fetchPage(req: { startMs: number; endMs: number; signal?: AbortSignal }): Promise<TradeHistoryPage> {
    const dropped: Record<string, number> = {};
    const first = await this.page(req.startMs, req.endMs, dropped, req.signal);
    const stuck = first.hasMore && first.trades.length > 0 && first.trades.every((t) => t.timestampMs === req.startMs);
    if (!stuck) return { trades: first.trades, hasMore: first.hasMore, dropped };
    countDrop(dropped, 'millisecondBeyondPage');
    if (req.startMs + 1 > req.endMs) return { trades: first.trades, hasMore: false, dropped };
    const next = await this.page(req.startMs + 1, req.endMs, dropped, req.signal);
    return { trades: [...first.trades, ...next.trades], hasMore: next.hasMore, dropped };
  }

  /** One request, its trades oldest first (Deribit's history has been seen unsorted despite `asc`). */
  private async page(startMs: number, endMs: number, dropped: Record<string, number>, signal?: AbortSignal): Promise<{ trades: TapeTrade[]; hasMore: boolean }> {
    if (!(Number.isSafeInteger(startMs) && Number.isSafeInteger(endMs) && startMs <= endMs)) throw new Error(`bad trade history window [${startMs}, ${endMs}]`);
    await this.pacer.turn(signal);
    const params = { currency: this.o.currency, kind: 'option', start_timestamp: startMs, end_timestamp: endMs, count: TRADE_PAGE_COUNT, sorting: 'asc' };
    const result = await deadline(this.o.call(TRADE_HISTORY_METHOD, params), this.o.clock, TRADE_PAGE_TIMEOUT_MS, `no answer to ${TRADE_HISTORY_METHOD} within ${TRADE_PAGE_TIMEOUT_MS / 1000} s`, signal);
    const page = parseTradesPage(result, this.o.currency, dropped);
    if (!page) throw new Error(`${TRADE_HISTORY_METHOD}: no trades list in the answer${isRecord(result) ? '' : ` (${typeof result})`}`);
    return { trades: oldestFirst(page.trades), hasMore: page.hasMore };
  }
}
