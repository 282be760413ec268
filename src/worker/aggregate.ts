/**
 * The figures of a view from its feeds: which venues are in (fresh, or all of them with their last
 * values when every one is stale), the valuation time (the newest venue time among them), the listed
 * expiries and what the selection's gone expiries are replaced by, one chain of the venues in, the
 * engine run, and the words the status bar shows. The decision about gone expiries is returned as data
 * (`fallback`): the host announces it, the page mirrors it into the link.
 */
import { expiryLabel } from '../shared/expiry.ts';
import { concatColumns } from '../chain/columns.ts';
import type { ChainColumns, PerpQuote, VenueId } from '../chain/model.ts';
import { exclusionReason } from '../engine/exposure.ts';
import type { ExposureParams, GexResult, LineTrades, VisibleDepth } from '../engine/types.ts';
import type { FeedRunner, Valuation } from './feed-runner.ts';
import { FEEDBACK_SHOCKS, type ExpiryFallback, type ExpiryInfo, type ResultMessage, type TapeWindow, type ViewSelection } from './protocol.ts';
import { DAY_MS } from './tape-keeper.ts';

export type Compute = (chain: ChainColumns, params: ExposureParams) => GexResult;

export interface Aggregate {
  body: Omit<ResultMessage, 'seq'>;
  /** Selected expiries that are gone and what is shown instead; null when every selected one is listed. */
  fallback: Omit<ExpiryFallback, 'type' | 'selection'> | null;
  valuation: Valuation;
}

/** Expiries after `valuationMs` listed by `runners`, with their line counts, ascending. */
export function listedExpiries(runners: readonly FeedRunner[], valuationMs: number): ExpiryInfo[] {
  const lines = new Map<number, number>();
  for (const r of runners) {
    for (const x of r.store.expiries()) if (x.expiryMs > valuationMs) lines.set(x.expiryMs, (lines.get(x.expiryMs) ?? 0) + x.lines);
  }
  return [...lines.entries()].sort((a, b) => a[0] - b[0]).map(([expiryMs, n]) => ({ expiryMs, label: expiryLabel(expiryMs), lines: n }));
}

/**
 * The selected expiries the figures use: the listed ones; when every one is gone, the next listed
 * expiry (not an empty chart, not all of them). `gone` says why each left: passed, or never listed.
 */
function resolveSelection(selected: readonly number[], listed: readonly ExpiryInfo[], valuationMs: number): { set: Set<number> | null; fallback: Aggregate['fallback'] } {
  if (selected.length === 0) return { set: null, fallback: null };
  const have = new Set(listed.map((x) => x.expiryMs));
  const keep = selected.filter((x) => have.has(x));
  const goneMs = selected.filter((x) => !have.has(x));
  const showing = keep.length > 0 || listed.length === 0 ? keep : [listed[0].expiryMs];
  const fallback = goneMs.length === 0 ? null : { gone: goneMs.map((expiryMs) => ({ expiryMs, why: expiryMs <= valuationMs ? ('expired' as const) : ('unlisted' as const) })), showing };
  return { set: new Set(showing), fallback };
}

/**
 * The engine's figures for `sel` from `runners` at worker time `now`, or null when no venue has data
 * yet. Side effects, all idempotent: expired lines leave the stores, index-priced venues get their
 * forwards, runners are marked included or not, per-venue exclusion counts are refreshed.
 * @param scratch reused columns when several venues are summed (the caller keeps `scratch.value`)
 */
export function aggregate(runners: readonly FeedRunner[], sel: ViewSelection, now: number, compute: Compute, scratch: { value: ChainColumns | null }): Aggregate | null {
  const withData = runners.filter((r) => r.hasData);
  const fresh = withData.filter((r) => r.isFresh(now));
  // When every venue is stale the figures keep their last values (health says stale) rather than
  // collapsing to zero, which would read as data.
  const included = fresh.length > 0 ? fresh : withData;
  for (const r of runners) r.included = included.includes(r) && fresh.length > 0;
  if (included.length === 0) return null;

  const excludedVenues: { venue: VenueId; reason: string }[] = [];
  for (const r of runners) {
    if (included.includes(r)) {
      if (fresh.length === 0) excludedVenues.push({ venue: r.venue, reason: 'stale: last values shown' });
      continue;
    }
    const st = r.stateOf(now);
    excludedVenues.push({ venue: r.venue, reason: !r.instrumentsComplete || r.spot === null ? 'no data yet' : st === 'connected' ? 'stale' : st });
  }

  let valuationMs = -Infinity;
  for (const r of included) if (r.venueTime.nowMs! > valuationMs) valuationMs = r.venueTime.nowMs!;
  for (const r of runners) r.store.removeExpired(valuationMs);

  const expiries = listedExpiries(included, valuationMs);
  const { set: expirySet, fallback } = resolveSelection(sel.expiries, expiries, valuationMs);

  for (const r of included) if (r.adapter.forwardsFromIndex) r.forwardsFromIndex();
  const spotRunner = included.find((r) => r.spot !== null)!;
  const spot = spotRunner.spot!;
  let chain: ChainColumns;
  if (included.length === 1) chain = included[0].store.columns();
  else chain = scratch.value = concatColumns(included.map((r) => r.store.columns()), scratch.value);
  const tape = sel.model === 'flow' ? tapeOfLines(included, chain.length, valuationMs - sel.windowDays * DAY_MS, valuationMs) : null;
  const gex = compute(chain, {
    spot, nowMs: valuationMs, model: sel.model, expiries: expirySet, profileRange: sel.profileRange, trades: tape?.lines ?? null,
    includeExpiring: sel.includeExpiring, afterNextExpiry: sel.afterNextExpiry, scenarios: sel.ladder,
    visibleDepth: visibleDepth(included.map((r) => r.perp)), feedbackShocks: FEEDBACK_SHOCKS,
  });

  if (included.length === 1) included[0].excludedLines = nonZero(gex.excluded);
  else for (const r of included) r.excludedLines = exclusionsOf(r.store.columns(), valuationMs, expirySet);

  let newestFrameAtMs: number | null = null;
  for (const r of included) {
    if (r.lastDataAtMs !== null && (newestFrameAtMs === null || r.lastDataAtMs > newestFrameAtMs)) newestFrameAtMs = r.lastDataAtMs;
  }
  const perps: PerpQuote[] = [];
  for (const r of runners) if (r.perp) perps.push(r.perp);

  return {
    body: {
      type: 'result',
      selection: sel,
      computedAtMs: now,
      newestFrameAtMs,
      gex,
      perps,
      includedVenues: included.map((r) => r.venue),
      excludedVenues,
      spotSource: spotSourceText(spotRunner, included),
      expiries,
      expiredSelected: fallback ? fallback.gone.map((g) => g.expiryMs) : [],
      tape: tape?.window ?? null,
    },
    fallback,
    valuation: { nowMs: valuationMs, expiries: expirySet },
  };
}

/**
 * The trade tape per line of the summed chain (the runners' lines one after another, as the chain is
 * laid out), for the flow model: each line's B, S and trades from its venue's tape, and since when that
 * tape is complete (a line listed after it was seen whole; nothing reaching now: none was).
 */
function tapeOfLines(included: readonly FeedRunner[], n: number, windowStartMs: number, nowMs: number): { lines: LineTrades; window: TapeWindow } {
  const lines: LineTrades = {
    windowStartMs,
    bought: new Float64Array(n),
    sold: new Float64Array(n),
    trades: new Float64Array(n),
    blockTrades: new Float64Array(n),
    seenFromMs: new Float64Array(n),
  };
  const window: TapeWindow = { windowStartMs, venues: [] };
  let o = 0;
  for (const r of included) {
    const k = r.store.columns().length;
    const from = r.tape ? r.tape.coveredFrom(nowMs) : null;
    window.venues.push({ venue: r.venue, coveredFromMs: from === null ? null : Math.max(from, windowStartMs) });
    lines.seenFromMs!.fill(from === null ? Infinity : Math.max(from, windowStartMs), o, o + k);
    const at = r.store.instrumentAt;
    if (r.tape && at) {
      for (let i = 0; i < k; i++) {
        const name = at.call(r.store, i)?.name;
        const s = name === undefined ? undefined : r.tape.tape.sumsOf(name);
        if (!s) continue;
        lines.bought[o + i] = s.bought;
        lines.sold[o + i] = s.sold;
        lines.trades[o + i] = s.trades;
        lines.blockTrades[o + i] = s.blockTrades;
      }
    }
    o += k;
  }
  return { lines, window };
}

/**
 * A venue's lines left out of the summed figures, by the engine's own reason (the test computeGex
 * applies to every line of the selected expiries): a linear pass, where a second engine run per venue
 * (its zero-gamma search over +-50 % included) cost as much as the figures themselves.
 */
function exclusionsOf(chain: ChainColumns, nowMs: number, expiries: Set<number> | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < chain.length; i++) {
    if (expiries && !expiries.has(chain.expiryMs[i])) continue;
    const reason = exclusionReason(chain, i, nowMs);
    if (reason !== null) out[reason] = (out[reason] ?? 0) + 1;
  }
  return out;
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(counts)) if (counts[k] > 0) out[k] = counts[k];
  return out;
}

/**
 * The perpetual books of the venues in the figures summed per band, for the feedback estimate
 * (design: "Feedback estimate"); null without any book.
 */
export function visibleDepth(perps: (PerpQuote | null)[]): VisibleDepth | null {
  const bands = new Map<number, { bid: number; ask: number }>();
  for (const p of perps) {
    for (const d of p?.depth ?? []) {
      const b = bands.get(d.bandPct) ?? { bid: 0, ask: 0 };
      b.bid += d.bidCoin;
      b.ask += d.askCoin;
      bands.set(d.bandPct, b);
    }
  }
  if (bands.size === 0) return null;
  const bandPct = [...bands.keys()].sort((a, b) => a - b);
  return { bandPct, bidUnits: bandPct.map((k) => bands.get(k)!.bid), askUnits: bandPct.map((k) => bands.get(k)!.ask) };
}

/** What the spot is and where forwards come from, in words for the status bar. */
function spotSourceText(spotRunner: FeedRunner, included: readonly FeedRunner[]): string {
  const fromIndex = included.filter((r) => r.adapter.forwardsFromIndex).map((r) => r.adapter.label);
  const fromVenue = included.filter((r) => !r.adapter.forwardsFromIndex).map((r) => r.adapter.label);
  const parts = [`spot from ${spotRunner.adapter.label} index`];
  if (fromVenue.length > 0) parts.push(`forwards from ${fromVenue.join(', ')}`);
  if (fromIndex.length > 0) parts.push(`${fromIndex.join(', ')}: no forward published, index used`);
  return parts.join('; ');
}
