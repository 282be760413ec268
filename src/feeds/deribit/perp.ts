/**
 * The perpetual's quote (PerpQuote) from its two channels: `ticker.{C}-PERPETUAL.100ms` (mark, index,
 * funding, OI in USD turned into coin by the parser, the touch) and `book.{C}-PERPETUAL.100ms` (the
 * change_id chain of ./book.ts: depth, and the touch when the ticker has none). Each frame sends the
 * quote again. A quote the sink refuses (its stamp failed the venue-time guard) leaves nothing behind:
 * the ticker it carried does not make later tickers look stale.
 */
import type { Currency, PerpQuote } from '../../chain/model.ts';
import type { FeedSink } from '../adapter.ts';
import type { FrameClass } from '../managed-socket.ts';
import { DeribitBookChain, type BookData } from './book.ts';
import type { DeribitPerpTicker } from './parse.ts';

export interface PerpOptions {
  currency: Currency;
  sink: FeedSink;
  /** The book's chain broke (already counted as a `bookGap` drop): it needs a fresh snapshot. */
  onGap: () => void;
}

export class DeribitPerp {
  private ticker: DeribitPerpTicker | null = null;
  private readonly book = new DeribitBookChain(true);

  constructor(private readonly o: PerpOptions) {}

  onTicker(t: DeribitPerpTicker): FrameClass {
    const prev = this.ticker;
    if (t.currency !== this.o.currency) return this.drop('unknownChannel');
    if (prev && t.timestampMs < prev.timestampMs) return this.drop('stale');
    this.ticker = t;
    if (this.send()) return 'data';
    this.ticker = prev;
    return 'other';
  }

  onBook(data: BookData): FrameClass {
    switch (this.book.apply(data)) {
      case 'gap':
        this.drop('bookGap');
        this.o.onGap();
        return 'other';
      case 'noSnapshot':
        return this.drop('bookNoSnapshot');
      case 'duplicate':
        return this.drop('duplicate');
      case 'applied':
        return this.send() ? 'data' : 'other';
    }
  }

  /** A new connection: the book starts again from the snapshot its subscribe brings. */
  reset(): void {
    this.book.reset();
  }

  /** Sends the quote (once a ticker came); false when the sink refused it. */
  private send(): boolean {
    const t = this.ticker;
    if (!t) return true;
    const top = this.book.top();
    const quote: PerpQuote = {
      venue: 'deribit',
      instrument: t.instrument,
      timestampMs: Math.max(t.timestampMs, this.book.hasSnapshot ? this.book.timestampMs : 0),
      markPrice: t.markPrice,
      indexPrice: t.indexPrice,
      funding8h: t.funding8h,
      openInterestCoin: t.openInterestCoin,
      bestBid: t.bestBid ?? top.bestBid,
      bestAsk: t.bestAsk ?? top.bestAsk,
      depth: top.depth,
    };
    return this.o.sink.perp(quote, this.o.currency) !== false;
  }

  private drop(reason: string): FrameClass {
    this.o.sink.status('deribit', { kind: 'dropped', reason });
    return 'other';
  }
}
