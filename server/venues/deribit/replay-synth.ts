/**
 * Deribit REST answers a replay derives when the recording holds no response to the call: instrument
 * rows from the names it mentions (fields a name cannot tell are Deribit's usual values for the kind)
 * and book-summary rows from the latest recorded ticker of each instrument.
 */
import { parseInstrumentName } from '../../sim/calendar.ts';

/** `public/get_instruments` from instrument names, `expired` or not at `nowMs`. */
export function synthInstruments(names: ReadonlySet<string>, params: Record<string, unknown>, nowMs: number, createdMs: number): unknown[] {
  const cur = String(params.currency ?? 'any');
  const kind = params.kind;
  const expired = params.expired === true || params.expired === 'true';
  const out: unknown[] = [];
  for (const name of [...names].sort()) {
    const p = parseInstrumentName(name);
    if (!p || (cur !== 'any' && p.currency !== cur)) continue;
    if (kind !== undefined && kind !== p.kind) continue;
    const isExpired = p.expiryMs !== undefined && p.expiryMs <= nowMs;
    if (isExpired !== expired) continue;
    if (p.kind === 'option')
      out.push({
        instrument_name: name,
        kind: 'option',
        base_currency: p.currency,
        quote_currency: p.currency,
        counter_currency: 'USD',
        settlement_currency: p.currency,
        instrument_type: 'reversed',
        price_index: `${p.currency.toLowerCase()}_usd`,
        option_type: p.isCall ? 'call' : 'put',
        strike: p.strike,
        expiration_timestamp: p.expiryMs,
        contract_size: 1,
        is_active: true,
        tick_size: 0.0005,
        min_trade_amount: 0.1,
        settlement_period: 'month',
        creation_timestamp: createdMs,
      });
    else
      out.push({
        instrument_name: name,
        kind: 'future',
        base_currency: p.currency,
        quote_currency: 'USD',
        counter_currency: 'USD',
        settlement_period: p.perpetual ? 'perpetual' : 'month',
        expiration_timestamp: p.expiryMs ?? 32503708800000,
        contract_size: p.currency === 'BTC' ? 10 : 1,
        is_active: true,
        creation_timestamp: createdMs,
      });
  }
  return out;
}

/** `public/get_book_summary_by_currency` from the latest ticker of each instrument. */
export function synthSummary(latestTicker: ReadonlyMap<string, Record<string, unknown>>, params: Record<string, unknown>): unknown[] {
  const cur = String(params.currency ?? 'any');
  const kind = params.kind;
  const out: unknown[] = [];
  for (const [name, t] of latestTicker) {
    const p = parseInstrumentName(name);
    if (!p || (cur !== 'any' && p.currency !== cur) || (kind !== undefined && kind !== p.kind)) continue;
    out.push({
      instrument_name: name,
      base_currency: p.currency,
      quote_currency: p.kind === 'option' ? p.currency : 'USD',
      mark_price: t.mark_price,
      mark_iv: t.mark_iv,
      open_interest: t.open_interest,
      underlying_price: t.underlying_price,
      underlying_index: t.underlying_index,
      estimated_delivery_price: t.estimated_delivery_price ?? t.index_price,
      interest_rate: t.interest_rate ?? 0,
      bid_price: t.best_bid_price ?? null,
      ask_price: t.best_ask_price ?? null,
      mid_price: typeof t.best_bid_price === 'number' && typeof t.best_ask_price === 'number' && t.best_bid_price > 0 ? (t.best_bid_price + t.best_ask_price) / 2 : null,
      last: t.last_price ?? null,
      volume: (t.stats as Record<string, unknown> | undefined)?.volume ?? null,
      creation_timestamp: t.timestamp,
      ...(p.perpetual ? { current_funding: t.current_funding, funding_8h: t.funding_8h } : {}),
    });
  }
  return out;
}
