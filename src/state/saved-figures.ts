/**
 * The last figures of a series (source, venues, currency) kept in storage, so that a start without a
 * connection (offline, the venue or the local server unreachable) shows them, marked as saved and not
 * live, instead of nothing. What comes back from storage is checked field by field: a stored result
 * of another app version or a damaged entry is ignored, never drawn half-read.
 */
import type { GexResult, ResultMessage } from '../worker/protocol.ts';
import { ALL_VENUES, CURRENCIES, MODELS, SOURCES } from './url.ts';

export interface SavedFigures {
  result: ResultMessage;
  /** Main-thread wall clock when the result had arrived. */
  receivedAtMs: number;
}

type ColumnKey = { [K in keyof GexResult]: GexResult[K] extends Float64Array ? K : never }[keyof GexResult];
const COLUMNS = [
  'strikes', 'callGex', 'putGex', 'netGex', 'deltaExposure', 'vannaExposure', 'charmExposure', 'expiries', 'netGexByExpiry', 'netGexByStrikeExpiry',
  'profileSpots', 'profileNetGex', 'moves', 'hedgeFlowUnits', 'hedgeFlowUsd', 'hedgeFlowUnitsGammaApprox',
] as const satisfies readonly ColumnKey[];
// Every Float64Array of GexResult is listed (a new column added to the engine fails to compile here).
const everyColumn: Exclude<ColumnKey, (typeof COLUMNS)[number]> extends never ? true : never = true;
void everyColumn;

const VERSION = 1;
/** Far above a real result (~20 KB): anything larger is not ours. */
const MAX_CHARS = 1_000_000;

/** Serialises a result (its Float64Array columns as plain arrays; NaN becomes null in JSON). */
export function encodeSavedFigures(result: ResultMessage, receivedAtMs: number): string {
  return JSON.stringify({ v: VERSION, receivedAtMs, result }, (_key, value: unknown) => (value instanceof Float64Array ? Array.from(value) : value));
}

class Bad extends Error {}
function check(ok: boolean, what: string): void {
  if (!ok) throw new Bad(what);
}
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isNumOrNull = (x: unknown) => x === null || isNum(x);
const oneOf = <T extends string>(list: readonly T[], x: unknown): x is T => typeof x === 'string' && (list as readonly string[]).includes(x);
function numbers(x: unknown, what: string): number[] {
  check(Array.isArray(x) && x.every(isNum), what);
  return x as number[];
}
/** A column back to a Float64Array; JSON wrote NaN as null. */
function column(x: unknown, what: string): Float64Array {
  check(Array.isArray(x) && x.every((v) => v === null || isNum(v)), what);
  return Float64Array.from(x as (number | null)[], (v) => (v === null ? NaN : v));
}

function readGex(g: unknown): GexResult {
  check(isObj(g), 'gex');
  const o = g as Record<string, unknown>;
  check(isNum(o.spot) && (o.spot as number) > 0 && isNum(o.nowMs), 'spot/nowMs');
  check(oneOf(MODELS, o.model) && oneOf(['positive', 'negative', 'flat'], o.regime), 'model/regime'); // never an 'invalid' total
  for (const k of ['totalCallGex', 'totalPutGex', 'totalNetGex', 'totalDeltaExposure', 'totalVannaExposure', 'totalCharmExposure', 'includedLines'] as const) check(isNum(o[k]), k);
  for (const k of ['zeroGammaLevel', 'callWall', 'putWall', 'largestAbsGammaStrike', 'nextExpiryMs', 'droppedExpiryMs'] as const) check(isNumOrNull(o[k]), k);
  const ex = o.expiring;
  check(isObj(ex) && isNum(ex.lines) && typeof ex.included === 'boolean' && isNum(ex.grossGammaShare) && isNumOrNull(ex.pinStrike), 'expiring');
  const pos = o.positioning;
  check(pos === null || (isObj(pos) && isNumOrNull(pos.windowStartMs) && ['trades', 'blockTrades', 'seenWhole', 'seenInPart', 'assumed'].every((k) => isNum(pos[k]))), 'positioning');
  numbers(o.zeroGammaCrossings, 'zeroGammaCrossings');
  check(isObj(o.excluded) && Object.values(o.excluded as object).every(isNum), 'excluded');
  const out = { ...o } as unknown as GexResult;
  for (const k of COLUMNS) out[k] = column(o[k], k);
  check(out.callGex.length === out.strikes.length && out.putGex.length === out.strikes.length && out.netGex.length === out.strikes.length, 'strike columns');
  check(out.profileNetGex.length === out.profileSpots.length, 'profile columns');
  check(out.netGexByExpiry.length === out.expiries.length && out.netGexByStrikeExpiry.length === out.strikes.length * out.expiries.length, 'expiry columns');
  check(out.hedgeFlowUnits.length === out.moves.length && out.hedgeFlowUsd.length === out.moves.length, 'flow columns');
  const n = out.strikes.length;
  check(out.deltaExposure.length === n && out.vannaExposure.length === n && out.charmExposure.length === n, 'exposure columns');
  out.classicNetGex = o.classicNetGex === null || o.classicNetGex === undefined ? null : column(o.classicNetGex, 'classicNetGex');
  check(out.classicNetGex === null || out.classicNetGex.length === n, 'classicNetGex');
  if (o.scenarios === null) return out;
  check(isObj(o.scenarios), 'scenarios');
  const sc = o.scenarios as Record<string, unknown>;
  const axes = { moves: numbers(sc.moves, 'scenarios.moves'), hours: numbers(sc.hours, 'scenarios.hours'), volShifts: numbers(sc.volShifts, 'scenarios.volShifts') };
  const units = column(sc.units, 'scenarios.units');
  const usd = column(sc.usd, 'scenarios.usd');
  const cells = axes.moves.length * axes.hours.length * axes.volShifts.length;
  check(units.length === cells && usd.length === cells, 'scenario cells');
  out.scenarios = { ...axes, units, usd };
  return out;
}

function readResult(r: unknown): ResultMessage {
  check(isObj(r) && r.type === 'result' && isNum(r.seq) && isNum(r.computedAtMs) && isNumOrNull(r.newestFrameAtMs), 'result');
  const o = r as Record<string, unknown>;
  const sel = o.selection;
  check(isObj(sel) && oneOf(SOURCES, sel.source) && oneOf(CURRENCIES, sel.currency) && oneOf(MODELS, sel.model) && isNum(sel.profileRange), 'selection');
  const s = sel as Record<string, unknown>;
  check(Array.isArray(s.venues) && s.venues.length > 0 && s.venues.every((v) => oneOf(ALL_VENUES, v)), 'selection.venues');
  numbers(s.expiries, 'selection.expiries');
  check(Array.isArray(o.perps) && o.perps.every((p) => isObj(p) && oneOf(ALL_VENUES, p.venue) && typeof p.instrument === 'string' &&
    isNum(p.timestampMs) && isNum(p.markPrice) && isNum(p.indexPrice) && ['funding8h', 'openInterestCoin', 'bestBid', 'bestAsk'].every((k) => isNumOrNull(p[k])) &&
    Array.isArray(p.depth) && p.depth.every((d) => isObj(d) && isNum(d.bandPct) && isNum(d.bidCoin) && isNum(d.askCoin))), 'perps');
  check(Array.isArray(o.includedVenues) && o.includedVenues.every((v) => oneOf(ALL_VENUES, v)), 'includedVenues');
  check(Array.isArray(o.excludedVenues) && o.excludedVenues.every((v) => isObj(v) && oneOf(ALL_VENUES, v.venue) && typeof v.reason === 'string'), 'excludedVenues');
  check(typeof o.spotSource === 'string', 'spotSource');
  check(Array.isArray(o.expiries) && o.expiries.every((e) => isObj(e) && isNum(e.expiryMs) && typeof e.label === 'string' && isNum(e.lines)), 'expiries');
  numbers(o.expiredSelected, 'expiredSelected');
  const tape = o.tape ?? null;
  check(tape === null || (isObj(tape) && isNum(tape.windowStartMs) && Array.isArray(tape.venues) &&
    tape.venues.every((v) => isObj(v) && oneOf(ALL_VENUES, v.venue) && isNumOrNull(v.coveredFromMs))), 'tape');
  return { ...(o as unknown as ResultMessage), tape: tape as ResultMessage['tape'], gex: readGex(o.gex) };
}

/** The figures stored by encodeSavedFigures, or null for nothing, another version or anything malformed. */
export function decodeSavedFigures(raw: string | null): SavedFigures | null {
  if (!raw || raw.length > MAX_CHARS) return null;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (!isObj(parsed) || parsed.v !== VERSION || !isNum(parsed.receivedAtMs)) return null;
    return { result: readResult(parsed.result), receivedAtMs: parsed.receivedAtMs };
  } catch {
    return null;
  }
}
