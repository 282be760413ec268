/** Deribit frame bodies built from simulator state, with the field names and units of the real API. */
import type { MarketSim, OptionDef, OptionQuote, PerpState } from '../../sim/market.ts';
import type { SimTrade } from '../../sim/trade-book.ts';
import { hash01 } from '../../sim/prng.ts';

const DAY = 86_400_000;

function settlementPeriod(d: OptionDef): string {
  const span = d.expiryMs - d.createdMs;
  return span <= 3 * DAY ? 'day' : span <= 35 * DAY ? 'week' : 'month';
}

export function instrumentRow(sim: MarketSim, d: OptionDef): Record<string, unknown> {
  const p = sim.params(d.currency);
  return {
    base_currency: d.currency,
    block_trade_commission: 0.0003,
    block_trade_min_trade_amount: 25,
    block_trade_tick_size: 0.0001,
    contract_size: 1,
    counter_currency: 'USD',
    creation_timestamp: d.createdMs,
    expiration_timestamp: d.expiryMs,
    instrument_id: Math.floor(hash01(sim.seed, d.name, 'id') * 400_000) + 100_000,
    instrument_name: d.name,
    instrument_type: 'reversed',
    is_active: true,
    kind: 'option',
    maker_commission: 0.0003,
    min_trade_amount: d.currency === 'BTC' ? 0.1 : 1,
    option_type: d.isCall ? 'call' : 'put',
    price_index: p.indexName,
    quote_currency: d.currency,
    rfq: false,
    settlement_currency: d.currency,
    settlement_period: settlementPeriod(d),
    strike: d.strike,
    taker_commission: 0.0003,
    tick_size: 0.0001,
    tick_size_steps: [{ above_price: 0.005, tick_size: 0.0005 }],
  };
}

export function perpInstrumentRow(sim: MarketSim, c: 'BTC' | 'ETH'): Record<string, unknown> {
  const p = sim.params(c);
  return {
    base_currency: c,
    contract_size: p.perpContractUsd,
    counter_currency: 'USD',
    creation_timestamp: 1534242287000,
    expiration_timestamp: 32503708800000,
    future_type: 'reversed',
    instrument_id: c === 'BTC' ? 124972 : 124690,
    instrument_name: `${c}-PERPETUAL`,
    instrument_type: 'reversed',
    is_active: true,
    kind: 'future',
    maker_commission: 0,
    max_leverage: 50,
    min_trade_amount: p.perpContractUsd,
    price_index: p.indexName,
    quote_currency: 'USD',
    rfq: false,
    settlement_currency: c,
    settlement_period: 'perpetual',
    taker_commission: 0.0005,
    tick_size: p.perpTick,
    tick_size_steps: [],
  };
}

export function optionTicker(q: OptionQuote): Record<string, unknown> {
  return {
    best_ask_amount: 10,
    best_ask_price: q.askPrice,
    best_bid_amount: 10,
    best_bid_price: q.bidPrice,
    bid_iv: q.bidIvPct,
    ask_iv: q.askIvPct,
    estimated_delivery_price: q.index,
    greeks: { delta: q.delta, gamma: q.gamma, rho: 0, theta: q.theta, vega: q.vega },
    index_price: q.index,
    instrument_name: q.def.name,
    interest_rate: 0,
    last_price: q.markPrice,
    mark_iv: q.markIvPct,
    mark_price: q.markPrice,
    max_price: Math.round(q.markPrice * 1.5 * 1e4 + 50) / 1e4,
    min_price: Math.max(0.0001, Math.round(q.markPrice * 0.5 * 1e4) / 1e4),
    open_interest: q.openInterest,
    settlement_price: q.markPrice,
    state: 'open',
    stats: { high: null, low: null, price_change: null, volume: 0, volume_usd: 0 },
    timestamp: q.timestamp,
    underlying_index: q.underlyingIndex,
    underlying_price: q.forward,
  };
}

export function perpTicker(p: PerpState): Record<string, unknown> {
  return {
    best_ask_amount: p.bestAskAmount,
    best_ask_price: p.bestAsk,
    best_bid_amount: p.bestBidAmount,
    best_bid_price: p.bestBid,
    current_funding: p.currentFunding,
    estimated_delivery_price: p.index,
    funding_8h: p.funding8h,
    index_price: p.index,
    instrument_name: p.instrumentName,
    interest_value: 0,
    last_price: p.markPrice,
    mark_price: p.markPrice,
    max_price: Math.round(p.markPrice * 1.015 * 100) / 100,
    min_price: Math.round(p.markPrice * 0.985 * 100) / 100,
    open_interest: p.openInterestUsd,
    settlement_price: p.index,
    state: 'open',
    stats: { high: null, low: null, price_change: null, volume: 0, volume_usd: 0 },
    timestamp: p.timestamp,
  };
}

export function summaryRow(q: OptionQuote): Record<string, unknown> {
  return {
    ask_price: q.askPrice,
    base_currency: q.def.currency,
    bid_price: q.bidPrice,
    creation_timestamp: q.timestamp,
    estimated_delivery_price: q.index,
    high: null,
    instrument_name: q.def.name,
    interest_rate: 0,
    last: null,
    low: null,
    mark_iv: q.markIvPct,
    mark_price: q.markPrice,
    mid_price: Math.round(((q.bidPrice + q.askPrice) / 2) * 1e5) / 1e5,
    open_interest: q.openInterest,
    price_change: null,
    quote_currency: q.def.currency,
    underlying_index: q.underlyingIndex,
    underlying_price: q.forward,
    volume: 0,
    volume_usd: 0,
  };
}

export function perpSummaryRow(p: PerpState, c: string): Record<string, unknown> {
  return {
    ask_price: p.bestAsk,
    base_currency: c,
    bid_price: p.bestBid,
    creation_timestamp: p.timestamp,
    current_funding: p.currentFunding,
    estimated_delivery_price: p.index,
    funding_8h: p.funding8h,
    high: null,
    instrument_name: p.instrumentName,
    last: p.markPrice,
    low: null,
    mark_price: p.markPrice,
    mid_price: (p.bestBid + p.bestAsk) / 2,
    open_interest: p.openInterestUsd,
    price_change: null,
    quote_currency: 'USD',
    volume: 0,
    volume_usd: 0,
  };
}

/**
 * A `public_trade` of Deribit's trade channel and history methods: `direction` is the taker's side,
 * `amount` (and `contracts`, contract_size 1) base coin, `iv` percent, `price` coin; a block leg carries
 * `block_trade_id` and `block_trade_leg_count`.
 */
export function publicTrade(sim: MarketSim, t: SimTrade): Record<string, unknown> {
  const buy = t.takerSide === 'buy';
  const q = sim.tradeQuote(t.line.def, buy);
  const row: Record<string, unknown> = {
    trade_seq: t.seq,
    trade_id: String(t.id),
    timestamp: t.timestampMs,
    tick_direction: buy ? 0 : 2,
    price: q.price,
    mark_price: q.mark,
    iv: q.ivPct,
    instrument_name: t.line.name,
    index_price: q.index,
    direction: t.takerSide,
    amount: t.amount,
    contracts: t.amount,
  };
  if (t.block) {
    row.block_trade_id = String(t.id % 1_000_000_000);
    row.block_trade_leg_count = 1;
  }
  return row;
}
