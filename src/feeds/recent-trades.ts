/**
 * The history of the venues that publish only their latest trades (OKX, Bybit, Binance: TradeHistory
 * reach 'recent'): the venue's recent-trades requests one after the other, each waiting its turn on
 * the feed's pacer, their trades inside the asked window as one page, oldest first. A failed request or
 * an error answer rejects the page (the caller retries).
 */
import type { TradeHistoryPage } from './adapter.ts';
import type { TapeTrade } from '../chain/model.ts';
import type { RequestPacer } from './pacer.ts';
import type { FetchJson } from './rest-fetch.ts';
import { oldestFirst } from './tape-rows.ts';

export interface RecentTradesRequest {
  /** Names the request in a rejection. */
  what: string;
  url: string;
  parse: (body: unknown, dropped: Record<string, number>) => { trades: TapeTrade[] } | { error: string };
}

export async function recentTradesPage(
  requests: readonly RecentTradesRequest[],
  o: { pacer: RequestPacer; fetchJson: FetchJson },
  req: { startMs: number; endMs: number; signal?: AbortSignal },
): Promise<TradeHistoryPage> {
  const dropped: Record<string, number> = {};
  const trades: TapeTrade[] = [];
  for (const { what, url, parse } of requests) {
    await o.pacer.turn(req.signal);
    const body = await o.fetchJson(url);
    req.signal?.throwIfAborted();
    const r = parse(body, dropped);
    if ('error' in r) throw new Error(`${what}: ${r.error}`);
    for (const t of r.trades) if (t.timestampMs >= req.startMs && t.timestampMs <= req.endMs) trades.push(t);
  }
  return { trades: oldestFirst(trades), hasMore: false, dropped };
}
