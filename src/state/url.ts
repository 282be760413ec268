/**
 * URL <-> view state for shared links. Readable query parameters:
 *   source=sim&venue=deribit&currency=BTC&expiries=27DEC24,3JAN25&model=classic&range=20&kiosk=1&rotate=BTC,ETH&every=30s
 * Every parameter is checked against an allow-list or a strict pattern (reliability.md §4.2). A bad one
 * falls back to its default and produces a notice naming it; nothing from the URL is ever used as an
 * object key or rendered as HTML (notices are plain text, truncated).
 */
import { DEFAULT_LADDER, LADDER_LIMITS, WINDOW_DAYS, type Currency, type DealerModelId, type ExpiryInfo, type Horizon, type SourceKind, type VenueId, type ViewSelection } from '../worker/protocol.ts';
import { CURRENCIES, DEALER_MODELS, SOURCES } from '../shared/policy.ts';
import { VENUE_IDS } from '../shared/venues.ts';
import { expiryLabel, parseExpiryLabel } from '../shared/expiry.ts';
import { FLOW_MULTIPLE_MAX, FLOW_MULTIPLE_MIN, NO_ALERTS, type AlertRules } from './alerts.ts';
import { PRIOR_MINUTES, type PriorMinutes } from './minutes.ts';

/** What the strike chart shows per strike (design: "Beyond gamma"): dollar gamma, or the delta, vanna or charm exposure. */
export type ExposureKind = 'gex' | 'dex' | 'vex' | 'chex';
export const EXPOSURES: readonly ExposureKind[] = ['gex', 'dex', 'vex', 'chex'];

/** What the history panel shows: spot and zero gamma, the strike x time heatmap, GEX by expiry, strike x expiry. */
export type HistoryTab = 'spot' | 'heatmap' | 'expiry' | 'strikes';
export const HISTORY_TABS: readonly HistoryTab[] = ['spot', 'heatmap', 'expiry', 'strikes'];

export interface ViewState extends ViewSelection {
  /** The strike chart's series. */
  exposure: ExposureKind;
  /** Minutes ago of the priors drawn on the strike chart (empty: none). */
  priors: PriorMinutes[];
  /** The alert set (in the link, so a desk shares it). */
  alerts: AlertRules;
  historyTab: HistoryTab;
  /** The vol shift the ladder shows (one of ladder.volShifts), decimal. */
  ladderVol: number;
  kiosk: boolean;
  /** Currencies a wall display rotates through; empty = no rotation. */
  rotate: Currency[];
  /** Rotation period, ms. */
  everyMs: number;
}

export { SOURCES, CURRENCIES };
export const ALL_VENUES: readonly VenueId[] = VENUE_IDS;
/** The models a link may name. */
export const MODELS: readonly DealerModelId[] = DEALER_MODELS;
export { WINDOW_DAYS };
const KEYS = ['source', 'venue', 'currency', 'expiries', 'model', 'window', 'range', 'exposure', 'expiring', 'after', 'moves', 'horizons', 'vols', 'vol', 'priors', 'alerts', 'history', 'kiosk', 'rotate', 'every'] as const;
type Key = (typeof KEYS)[number];

export const MAX_QUERY_LENGTH = 2048;
export const MAX_EXPIRIES = 64;
export const RANGE_MIN_PCT = 1;
export const RANGE_MAX_PCT = 50;
export const EVERY_MIN_MS = 5_000;
export const EVERY_MAX_MS = 3_600_000;

export const DEFAULT_VIEW: Readonly<ViewState> = Object.freeze<ViewState>({
  source: 'live',
  venues: ['deribit'],
  currency: 'BTC',
  expiries: [],
  model: 'classic',
  profileRange: 0.2,
  includeExpiring: false,
  afterNextExpiry: false,
  ladder: DEFAULT_LADDER,
  windowDays: WINDOW_DAYS.default,
  exposure: 'gex',
  ladderVol: 0,
  priors: [],
  alerts: NO_ALERTS,
  historyTab: 'spot',
  kiosk: false,
  rotate: [],
  everyMs: 30_000,
});

const copyLadder = (l: ViewSelection['ladder']): ViewSelection['ladder'] => ({ moves: [...l.moves], hours: [...l.hours], volShifts: [...l.volShifts] });

export function defaultView(): ViewState {
  return { ...DEFAULT_VIEW, venues: [...DEFAULT_VIEW.venues], expiries: [], rotate: [], priors: [], alerts: { ...NO_ALERTS }, ladder: copyLadder(DEFAULT_VIEW.ladder) };
}

/** What the worker computes for a view (the view less its display-only parts). */
export function toSelection(v: ViewState): ViewSelection {
  return {
    source: v.source, venues: [...v.venues], currency: v.currency, expiries: [...v.expiries], model: v.model, profileRange: v.profileRange,
    includeExpiring: v.includeExpiring, afterNextExpiry: v.afterNextExpiry, ladder: copyLadder(v.ladder), windowDays: v.windowDays,
  };
}

const sameLadder = (a: ViewSelection['ladder'], b: ViewSelection['ladder']) =>
  a.moves.join() === b.moves.join() && a.hours.join() === b.hours.join() && a.volShifts.join() === b.volShifts.join();

export const sameSelection = (a: ViewSelection, b: ViewSelection) =>
  a.source === b.source && a.currency === b.currency && a.model === b.model && a.profileRange === b.profileRange &&
  a.venues.join() === b.venues.join() && a.expiries.join() === b.expiries.join() &&
  a.includeExpiring === b.includeExpiring && a.afterNextExpiry === b.afterNextExpiry && sameLadder(a.ladder, b.ladder) &&
  a.windowDays === b.windowDays;

export { expiryLabel, parseExpiryLabel };

export interface ParsedView {
  view: ViewState;
  /** Plain-text notices for the user, one per rejected parameter. */
  notices: string[];
}

/** Shortens untrusted text before it goes into a (plain-text) notice. */
function quote(raw: string): string {
  const clean = raw.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(clean.length > 40 ? `${clean.slice(0, 40)}…` : clean);
}

function isKey(k: string): k is Key {
  return (KEYS as readonly string[]).includes(k);
}

function parseList(raw: string): string[] {
  return raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Parses a query string (with or without "?") into a view. Never throws. */
export function parseViewFromSearch(search: string): ParsedView {
  const view = defaultView();
  const notices: string[] = [];
  const q = search.startsWith('?') ? search.slice(1) : search;
  if (q.length === 0) return { view, notices };
  if (q.length > MAX_QUERY_LENGTH) {
    notices.push(`link is longer than ${MAX_QUERY_LENGTH} characters; showing the default view`);
    return { view, notices };
  }
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(q);
  } catch {
    notices.push('link could not be read; showing the default view');
    return { view, notices };
  }
  // A Map, never a plain object: parameter names are untrusted (no __proto__ tricks).
  const values = new Map<Key, string>();
  for (const [k, v] of params) {
    if (!isKey(k)) {
      notices.push(`unknown parameter ${quote(k)} ignored`);
      continue;
    }
    if (values.has(k)) {
      notices.push(`parameter "${k}" given twice; using the first`);
      continue;
    }
    values.set(k, v);
  }
  const bad = (k: Key, raw: string, fallback: string) =>
    notices.push(`parameter "${k}" is not valid (${quote(raw)}); using ${fallback}`);

  const source = values.get('source');
  if (source !== undefined) {
    if ((SOURCES as readonly string[]).includes(source)) view.source = source as SourceKind;
    else bad('source', source, DEFAULT_VIEW.source);
  }

  const venue = values.get('venue');
  if (venue !== undefined) {
    const list = parseList(venue);
    const ok: VenueId[] = [];
    for (const v of list) {
      const id = v.toLowerCase();
      if (!(ALL_VENUES as readonly string[]).includes(id)) notices.push(`venue ${quote(v)} is unknown; ignored`);
      else if (!ok.includes(id as VenueId)) ok.push(id as VenueId);
    }
    if (ok.length > 0) view.venues = ok;
    else if (list.length === 0) bad('venue', venue, DEFAULT_VIEW.venues.join(','));
    else notices.push(`no usable venue in the link; using ${DEFAULT_VIEW.venues.join(',')}`);
  }

  const currency = values.get('currency');
  if (currency !== undefined) {
    if ((CURRENCIES as readonly string[]).includes(currency)) view.currency = currency as Currency;
    else bad('currency', currency, DEFAULT_VIEW.currency);
  }

  const expiries = values.get('expiries');
  if (expiries !== undefined && expiries !== 'all') {
    const list = parseList(expiries);
    if (list.length === 0 || list.length > MAX_EXPIRIES) {
      bad('expiries', expiries, 'all expiries');
    } else {
      const out: number[] = [];
      for (const label of list) {
        const ms = parseExpiryLabel(label);
        if (ms === null) notices.push(`expiry ${quote(label)} is not a valid expiry (like 27DEC24); ignored`);
        else if (!out.includes(ms)) out.push(ms);
      }
      out.sort((a, b) => a - b);
      view.expiries = out;
      if (out.length === 0) notices.push('no valid expiry in the link; showing all expiries');
    }
  }

  const model = values.get('model');
  if (model !== undefined) {
    if ((MODELS as readonly string[]).includes(model)) view.model = model as DealerModelId;
    else bad('model', model, DEFAULT_VIEW.model);
  }

  const window = values.get('window');
  if (window !== undefined) {
    const days = /^\d{1,2}$/.test(window) ? Number(window) : NaN;
    if (days >= WINDOW_DAYS.min && days <= WINDOW_DAYS.max) view.windowDays = days;
    else bad('window', window, `${WINDOW_DAYS.default} (days of trades for the flow model, ${WINDOW_DAYS.min}-${WINDOW_DAYS.max})`);
  }

  const range = values.get('range');
  if (range !== undefined) {
    const pct = /^\d{1,2}(\.\d)?$/.test(range) ? Number(range) : NaN;
    if (pct >= RANGE_MIN_PCT && pct <= RANGE_MAX_PCT) view.profileRange = Math.round(pct * 10) / 1000;
    else bad('range', range, `${DEFAULT_VIEW.profileRange * 100} (percent, ${RANGE_MIN_PCT}-${RANGE_MAX_PCT})`);
  }

  const exposure = values.get('exposure');
  if (exposure !== undefined) {
    if ((EXPOSURES as readonly string[]).includes(exposure)) view.exposure = exposure as ExposureKind;
    else bad('exposure', exposure, `${DEFAULT_VIEW.exposure} (one of ${EXPOSURES.join(', ')})`);
  }

  const flag = (k: Key, set: (on: boolean) => void, offText: string) => {
    const raw = values.get(k);
    if (raw === undefined) return;
    if (raw === '1' || raw === 'true') set(true);
    else if (raw === '0' || raw === 'false') set(false);
    else bad(k, raw, offText);
  };
  flag('expiring', (on) => (view.includeExpiring = on), 'off (lines under one hour to expiry left out)');
  const after = values.get('after');
  if (after !== undefined) {
    if (after === 'next') view.afterNextExpiry = true;
    else if (after === 'none') view.afterNextExpiry = false;
    else bad('after', after, 'none (after=next shows the view after the next expiry)');
  }

  // The ladder's axes: moves and vol shifts in percent / vol points, horizons in hours or "next".
  const numberList = (k: Key, max: number, bound: number, scale: number): number[] | null => {
    const raw = values.get(k);
    if (raw === undefined) return null;
    const list = parseList(raw);
    const out = list.map((t) => (/^[+-]?\d{1,3}(\.\d{1,2})?$/.test(t) ? Number(t) : NaN));
    if (list.length === 0 || list.length > max || out.some((v) => !(Math.abs(v) <= bound))) {
      bad(k, raw, `the default (${max} values at most, each within ±${bound})`);
      return null;
    }
    return [...new Set(out.map((v) => Math.round(v * 100) / (100 * scale)))].sort((a, b) => a - b);
  };
  const moves = numberList('moves', LADDER_LIMITS.moves, LADDER_LIMITS.maxAbsMove * 100, 100);
  if (moves) view.ladder.moves = moves;
  const vols = numberList('vols', LADDER_LIMITS.volShifts, LADDER_LIMITS.maxAbsVolShift * 100, 100);
  if (vols) view.ladder.volShifts = vols;
  const horizons = values.get('horizons');
  if (horizons !== undefined) {
    const list = parseList(horizons);
    const out: Horizon[] = [];
    let ok = list.length > 0 && list.length <= LADDER_LIMITS.hours;
    for (const t of list) {
      if (t === 'next') out.push('nextExpiry');
      else if (/^\d{1,3}(\.\d)?$/.test(t) && Number(t) <= LADDER_LIMITS.maxHours) out.push(Number(t));
      else ok = false;
    }
    if (ok) view.ladder.hours = [...new Set(out)];
    else bad('horizons', horizons, `0,1,8,24,next (hours ahead up to ${LADDER_LIMITS.maxHours}, or next)`);
  }
  const vol = values.get('vol');
  if (vol !== undefined) {
    const v = /^[+-]?\d{1,2}(\.\d{1,2})?$/.test(vol) ? Math.round(Number(vol) * 100) / 10000 : NaN;
    if (view.ladder.volShifts.includes(v)) view.ladderVol = v;
    else bad('vol', vol, `${DEFAULT_VIEW.ladderVol * 100} (one of the ladder's vol shifts)`);
  }
  if (!view.ladder.volShifts.includes(view.ladderVol)) view.ladderVol = view.ladder.volShifts[view.ladder.volShifts.length >> 1];

  const priors = values.get('priors');
  if (priors !== undefined) {
    const list = parseList(priors);
    const ok = list.every((t) => /^\d{1,2}$/.test(t) && (PRIOR_MINUTES as readonly number[]).includes(Number(t)));
    if (list.length > 0 && ok) view.priors = PRIOR_MINUTES.filter((m) => list.includes(String(m)));
    else bad('priors', priors, `none (minutes ago, any of ${PRIOR_MINUTES.join(',')})`);
  }

  const alerts = values.get('alerts');
  if (alerts !== undefined) {
    const { rules, problems } = parseAlertRules(alerts);
    view.alerts = rules;
    notices.push(...problems);
  }

  const history = values.get('history');
  if (history !== undefined) {
    if ((HISTORY_TABS as readonly string[]).includes(history)) view.historyTab = history as HistoryTab;
    else bad('history', history, `${DEFAULT_VIEW.historyTab} (one of ${HISTORY_TABS.join(', ')})`);
  }

  const kiosk = values.get('kiosk');
  if (kiosk !== undefined) {
    if (kiosk === '1' || kiosk === 'true') view.kiosk = true;
    else if (kiosk === '0' || kiosk === 'false') view.kiosk = false;
    else bad('kiosk', kiosk, 'off');
  }

  const rotate = values.get('rotate');
  if (rotate !== undefined) {
    const list = parseList(rotate);
    const ok = list.filter((c): c is Currency => (CURRENCIES as readonly string[]).includes(c));
    if (list.length > 0 && ok.length === list.length) view.rotate = [...new Set(ok)];
    else bad('rotate', rotate, 'no rotation');
  }

  const every = values.get('every');
  if (every !== undefined) {
    const m = /^(\d{1,4})(s|m)?$/.exec(every);
    const ms = m ? Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000) : NaN;
    if (ms >= EVERY_MIN_MS && ms <= EVERY_MAX_MS) view.everyMs = ms;
    else bad('every', every, `${DEFAULT_VIEW.everyMs / 1000}s`);
  }
  return { view, notices };
}

/**
 * Canonical query string of a view (no leading "?"). Commas stay literal for readability; every value
 * is from an allow-list or a strict pattern, so none needs escaping.
 */
export function viewToSearch(view: ViewState): string {
  const parts: string[] = [
    `source=${view.source}`,
    `venue=${view.venues.join(',')}`,
    `currency=${view.currency}`,
    `expiries=${view.expiries.length === 0 ? 'all' : [...view.expiries].sort((a, b) => a - b).map(expiryLabel).join(',')}`,
    `model=${view.model}`,
    `range=${Math.round(view.profileRange * 1000) / 10}`,
  ];
  if (view.windowDays !== DEFAULT_VIEW.windowDays) parts.push(`window=${view.windowDays}`);
  // Beyond gamma: written only when not the default, so a plain link stays short.
  if (view.exposure !== DEFAULT_VIEW.exposure) parts.push(`exposure=${view.exposure}`);
  if (view.includeExpiring) parts.push('expiring=1');
  if (view.afterNextExpiry) parts.push('after=next');
  const pct = (xs: readonly number[]) => xs.map((x) => String(Math.round(x * 10000) / 100)).join(',');
  const L = view.ladder;
  const D = DEFAULT_VIEW.ladder;
  if (L.moves.join() !== D.moves.join()) parts.push(`moves=${pct(L.moves)}`);
  if (L.hours.join() !== D.hours.join()) parts.push(`horizons=${L.hours.map((h) => (h === 'nextExpiry' ? 'next' : String(h))).join(',')}`);
  if (L.volShifts.join() !== D.volShifts.join()) parts.push(`vols=${pct(L.volShifts)}`);
  if (view.ladderVol !== DEFAULT_VIEW.ladderVol) parts.push(`vol=${pct([view.ladderVol])}`);
  if (view.priors.length > 0) parts.push(`priors=${view.priors.join(',')}`);
  const alerts = alertRulesToText(view.alerts);
  if (alerts) parts.push(`alerts=${alerts}`);
  if (view.historyTab !== DEFAULT_VIEW.historyTab) parts.push(`history=${view.historyTab}`);
  if (view.kiosk) parts.push('kiosk=1');
  if (view.rotate.length > 0) parts.push(`rotate=${view.rotate.join(',')}`);
  if (view.rotate.length > 0 || view.everyMs !== DEFAULT_VIEW.everyMs) parts.push(`every=${Math.round(view.everyMs / 1000)}s`);
  return parts.join('&');
}

/** Alert rule words in a link: `regime`, `zero`, `callwall`, `putwall`, `walls` (both), `flow:N` (N x the ±1 % perp depth), `sound`. */
export const ALERT_RULE_WORDS = ['regime', 'zero', 'callwall', 'putwall', 'walls', 'flow:N', 'sound'] as const;

/** The alert set of `alerts=...`: each malformed rule named and left out, the others kept. */
export function parseAlertRules(raw: string): { rules: AlertRules; problems: string[] } {
  const rules: AlertRules = { ...NO_ALERTS };
  const problems: string[] = [];
  const list = parseList(raw).slice(0, 16);
  for (const word of list) {
    const w = word.toLowerCase();
    const flow = /^flow:(\d{1,3}(\.\d{1,2})?)$/.exec(w);
    if (w === 'regime') rules.regime = true;
    else if (w === 'zero') rules.zeroGamma = true;
    else if (w === 'callwall') rules.callWall = true;
    else if (w === 'putwall') rules.putWall = true;
    else if (w === 'walls') rules.callWall = rules.putWall = true;
    else if (w === 'sound') rules.sound = true;
    else if (flow && Number(flow[1]) >= FLOW_MULTIPLE_MIN && Number(flow[1]) <= FLOW_MULTIPLE_MAX) rules.flowMultiple = Number(flow[1]);
    else {
      problems.push(`alert rule ${quote(word)} is not valid (${ALERT_RULE_WORDS.join(', ')}; flow:N with N from ${FLOW_MULTIPLE_MIN} to ${FLOW_MULTIPLE_MAX}); left out`);
    }
  }
  if (list.length === 0) problems.push('parameter "alerts" is empty; no alerts');
  return { rules, problems };
}

/** The link's words for an alert set ('' for none), in a fixed order. */
export function alertRulesToText(r: AlertRules): string {
  const words: string[] = [];
  if (r.regime) words.push('regime');
  if (r.zeroGamma) words.push('zero');
  if (r.callWall && r.putWall) words.push('walls');
  else if (r.callWall) words.push('callwall');
  else if (r.putWall) words.push('putwall');
  if (r.flowMultiple !== null) words.push(`flow:${r.flowMultiple}`);
  if (r.sound && words.length > 0) words.push('sound');
  return words.join(',');
}

export interface QuickPicks {
  nearest: number[];
  thisWeek: number[];
  thisMonth: number[];
  all: number[];
}

/** Quick picks over the live expiry list, relative to the venue's time `nowMs`. `all` = [] (all expiries). */
export function quickPicks(live: readonly ExpiryInfo[], nowMs: number): QuickPicks {
  const ms = live.map((e) => e.expiryMs).filter((e) => e > nowMs).sort((a, b) => a - b);
  const weekEnd = nowMs + 7 * 86_400_000;
  const now = new Date(nowMs);
  // Calendar month (UTC): up to and including the month-end expiry.
  const monthEnd = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
  return {
    nearest: ms.slice(0, 1),
    thisWeek: ms.filter((e) => e <= weekEnd),
    thisMonth: ms.filter((e) => e < monthEnd),
    all: [],
  };
}
