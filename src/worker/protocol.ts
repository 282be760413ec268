/**
 * THE boundary between the main thread and the gex worker. Nothing else crosses it.
 * Results, not ticks: the worker posts computed figures at a bounded rate; large arrays travel as
 * Float64Array whose buffers are transferred (see `transferablesOf`).
 */
import type { DealerModelId, FeedbackEstimate, GexResult, Horizon } from '../engine/types.ts';
import type { Currency, PerpQuote, VenueId } from '../chain/model.ts';
import { CURRENCIES, DEALER_MODELS, SOURCES, oneOf, type SourceKind } from '../shared/policy.ts';
import { isVenueId } from '../shared/venues.ts';

export const PROTOCOL_VERSION = 1;

export type { Currency, DealerModelId, FeedbackEstimate, GexResult, Horizon, PerpQuote, VenueId };

/** The scenario ladder's axes (design: "Beyond gamma"): rows a trader picks, in the link. */
export interface LadderAxes {
  /** Spot moves as fractions (0.01 = +1 %). */
  moves: number[];
  /** Horizons in hours, or 'nextExpiry' (through the nearest expiry in the sums). */
  hours: Horizon[];
  /** Vol shifts as decimals (0.01 = one vol point). */
  volShifts: number[];
}

/**
 * The page's default ladder: 11 moves x (now, +1 h, +8 h, +24 h, through the next expiry) x 5 vol
 * shifts; a full recompute of 1,000 lines with it stays under 10 ms (bench/engine.bench.ts).
 */
export const DEFAULT_LADDER: Readonly<LadderAxes> = Object.freeze<LadderAxes>({
  moves: [-0.1, -0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.05, 0.1],
  hours: [0, 1, 8, 24, 'nextExpiry'],
  volShifts: [-0.05, -0.02, 0, 0.02, 0.05],
});

/** The shocks the feedback estimate is given for (design: "Feedback estimate": -5 % ... +5 %). */
export const FEEDBACK_SHOCKS: readonly number[] = [-0.05, -0.02, -0.01, 0.01, 0.02, 0.05];

/** Bounds of a ladder in a link or a selection: what a recompute at 4 Hz can afford. */
export const LADDER_LIMITS = Object.freeze({ moves: 21, hours: 8, volShifts: 9, maxAbsMove: 0.5, maxHours: 720, maxAbsVolShift: 0.5 });

/** The ladder if every axis is within LADDER_LIMITS (finite, in range, not too many), else null. */
export function checkLadder(x: unknown): LadderAxes | null {
  if (typeof x !== 'object' || x === null) return null;
  const { moves, hours, volShifts } = x as Record<string, unknown>;
  const nums = (a: unknown, max: number, bound: number): a is number[] =>
    Array.isArray(a) && a.length >= 1 && a.length <= max && a.every((v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= bound);
  if (!nums(moves, LADDER_LIMITS.moves, LADDER_LIMITS.maxAbsMove) || !nums(volShifts, LADDER_LIMITS.volShifts, LADDER_LIMITS.maxAbsVolShift)) return null;
  const okHours = Array.isArray(hours) && hours.length >= 1 && hours.length <= LADDER_LIMITS.hours &&
    hours.every((h) => h === 'nextExpiry' || (typeof h === 'number' && Number.isFinite(h) && h >= 0 && h <= LADDER_LIMITS.maxHours));
  if (!okHours) return null;
  return { moves: [...moves], hours: [...(hours as Horizon[])], volShifts: [...volShifts] };
}

/**
 * The `flow` model's lookback window in days (design: "Dealer positions from the trade tape": [W0, now]),
 * `window=` in a link: a week by default; a month at most (Deribit's history of a month takes hours).
 */
export const WINDOW_DAYS = Object.freeze({ default: 7, min: 1, max: 30 });

/** What a selection holds beyond its venues, currency and expiries, at their defaults (tests, links). */
export const SELECTION_DEFAULTS = Object.freeze({ includeExpiring: false, afterNextExpiry: false, ladder: DEFAULT_LADDER, windowDays: WINDOW_DAYS.default });

/** Where data comes from. Anything but `live` is labelled on screen. */
export type { SourceKind };

/** What the user is looking at; mirrors the URL's view state. */
export interface ViewSelection {
  source: SourceKind;
  venues: VenueId[];
  currency: Currency;
  /** Expiries as epoch ms; empty = all live expiries. */
  expiries: number[];
  model: DealerModelId;
  /** Half-width of the gamma profile across spot, fraction (0.2 = +-20 %). */
  profileRange: number;
  /** Sum lines under one hour to expiry too (design: "Expiring lines"; `expiring=1`). */
  includeExpiring: boolean;
  /** Leave out the nearest expiry: the view after the next 08:00 (design: "Beyond gamma"). */
  afterNextExpiry: boolean;
  ladder: LadderAxes;
  /** The flow model's lookback, whole days (WINDOW_DAYS); the tape is kept for it whatever the model. */
  windowDays: number;
}

export interface ExpiryInfo {
  expiryMs: number;
  /** Venue-style label, e.g. 27DEC24. */
  label: string;
  lines: number;
}

export type FeedState = 'connecting' | 'connected' | 'stale' | 'reconnecting' | 'down';

export interface FeedHealth {
  venue: VenueId;
  state: FeedState;
  /** Milliseconds since the last data message (heartbeats do not count); null before the first. */
  dataAgeMs: number | null;
  messagesPerSec: number;
  reconnects: number;
  /** Frames dropped before touching state, by reason (malformed, badNumber, oversize, duplicate, stale, ...). */
  dropped: Record<string, number>;
  /** Option lines excluded from the sums, by engine reason. */
  excludedLines: Record<string, number>;
  /** Last venue or transport error, human readable. */
  lastError: string | null;
  /** When the next reconnect attempt is due (epoch ms), if reconnecting. */
  retryAtMs: number | null;
  /** Venues with a per-connection request budget (OKX: 480 subscribe requests an hour): what was spent. */
  subscribes?: { lastHour: number; budgetPerHour: number };
  /**
   * Venues whose figures sum several option families (OKX: coin-margined `BTC-USD` and USD-margined
   * `BTC-USD_UM`): per family, lines listed and lines in the sums (of the selected expiries).
   */
  families?: FamilyLines[];
  /** What the venue's figures assume because the venue did not say (shown beside it until withdrawn). */
  assumptions?: string[];
}

export interface FamilyLines {
  family: string;
  /** Settlement currency as the venue names it, when it says. */
  settleCurrency: string | null;
  /** Listed lines of the selected expiries. */
  lines: number;
  /** Of those, the lines in the figures now (valid data, venue included). */
  linesIn: number;
}

/**
 * Requests answered once (used through @tanstack/react-query on the main thread), by kind: what is
 * asked and what comes back, so both ends are typed by the same map.
 */
export interface WorkerRequests {
  /** The expiries the venues list now (the picker asks before any result has them). */
  expiries: { args: { venues: VenueId[]; currency: Currency }; answer: ExpiryInfo[] };
  /** The latest result, uncoalesced (a tab's return, tests). */
  snapshot: { args: Record<never, never>; answer: ResultMessage | null };
}
export type RequestKind = keyof WorkerRequests;
export type WorkerRequest = { [K in RequestKind]: { kind: K } & WorkerRequests[K]['args'] }[RequestKind];
/** A request's answer, its kind carried so the page's pending table can trust the data's type. */
export type WorkerResponse =
  | { [K in RequestKind]: { type: 'response'; id: number; ok: true; kind: K; data: WorkerRequests[K]['answer'] } }[RequestKind]
  | { type: 'response'; id: number; ok: false; error: string };

/**
 * Selected expiries that are gone (passed, or never listed by the venues): the worker decides what the
 * figures show instead (the ones still listed, else the next listed expiry) and says so once; the page
 * mirrors it into the link and a notice.
 */
export interface ExpiryFallback {
  type: 'expiryFallback';
  selection: ViewSelection;
  gone: { expiryMs: number; why: 'expired' | 'unlisted' }[];
  /** The expiries in the figures now; empty when the venues list none. */
  showing: number[];
}

export type ToWorker =
  | { type: 'hello'; protocolVersion: number; /** Base for local sources, e.g. ws://127.0.0.1:8787 */ localBase: string }
  | { type: 'select'; selection: ViewSelection }
  /** Backpressure: the main thread has painted result `seq`; the worker holds at most one newer result. */
  | { type: 'ack'; seq: number }
  | { type: 'request'; id: number; request: WorkerRequest }
  /** Liveness probe from the main thread's watchdog. */
  | { type: 'ping'; id: number }
  /** The trade history fill of the view's venues: stop it where it is, or go on (the progress bar's buttons). */
  | { type: 'history'; action: 'cancel' | 'resume' };

export interface ResultMessage {
  type: 'result';
  seq: number;
  selection: ViewSelection;
  /** Worker clock time of the computation, epoch ms. */
  computedAtMs: number;
  /** Arrival time (worker clock) of the newest frame that went into this result. */
  newestFrameAtMs: number | null;
  gex: GexResult;
  /** Perpetual quotes of the selected venues (for hedge-flow depth, funding, basis). */
  perps: PerpQuote[];
  /** Venues included in the figures, and those left out because down/stale. */
  includedVenues: VenueId[];
  excludedVenues: { venue: VenueId; reason: string }[];
  /** Spot used: from which venue's index, and whether forwards came from the venue or fell back to index. */
  spotSource: string;
  expiries: ExpiryInfo[];
  /** Selected expiries that are no longer listed (passed or never listed), epoch ms (ExpiryFallback says what is shown). */
  expiredSelected: number[];
  /** Model `flow`: the window asked and what of it each venue's tape holds; null for other models. */
  tape: TapeWindow | null;
}

/** The trade window of a `flow` result (design: "Dealer positions from the trade tape"). */
export interface TapeWindow {
  /** W0: the window asked, [W0, valuation time]. */
  windowStartMs: number;
  /**
   * Per venue in the figures, since when its tape holds every trade up to now (>= W0; a line listed
   * after it was seen whole); null when it holds no stretch reaching now yet. The window the figures
   * cover is full when it equals W0.
   */
  venues: { venue: VenueId; coveredFromMs: number | null }[];
}

/** What the history fill of one venue's tape is doing. */
export type HistoryState =
  | 'none' // the venue has no trade history: the live tape only
  | 'waiting' // not started: the view is not on `flow`, or the venue is not connected yet
  | 'loading' // reading the stored tape
  | 'filling'
  | 'retrying' // a page failed; the next try is at retryAtMs
  | 'done' // the window is held (the live channel keeps it)
  | 'cancelled';

/** One venue's trade tape and its history fill, for the progress bar (posted at a bounded rate). */
export interface TapeProgress {
  venue: VenueId;
  currency: Currency;
  history: HistoryState;
  /** 'window': the venue keeps any window (Deribit); 'recent': only its latest trades; null: no history. */
  reach: 'window' | 'recent' | null;
  /** How far the venue's history reaches, in the venue's words (shown as is). */
  note: string | null;
  windowStartMs: number | null;
  /** Since when the tape holds every trade up to now; null: no such stretch yet. */
  coveredFromMs: number | null;
  /** How much of the window the tape holds, in all (ms; the window is full at now - windowStartMs). */
  coveredMs: number;
  /** Trades held in the window. */
  trades: number;
  /** This fill: pages answered, trades they added, share of the missing time fetched (0..1), time left (ms). */
  pages: number;
  fetched: number;
  done: number;
  etaMs: number | null;
  /** The last failure while it is retried, and when the next try is (epoch ms, worker clock). */
  error: string | null;
  retryAtMs: number | null;
}

export type FromWorker =
  | { type: 'hello'; protocolVersion: number }
  | ResultMessage
  | { type: 'health'; feeds: FeedHealth[]; atMs: number }
  | WorkerResponse
  | ExpiryFallback
  | { type: 'pong'; id: number }
  /** A problem the user should read (bad selection, venue error); never a crash. */
  | { type: 'notice'; level: 'info' | 'warn' | 'error'; message: string }
  /** The trade tapes of the view's venues and their history fills (at most a few a second). */
  | { type: 'tape'; venues: TapeProgress[]; atMs: number };

/** Buffers to transfer with a message (the sender must not use them afterwards). */
export function transferablesOf(msg: FromWorker): ArrayBuffer[] {
  if (msg.type !== 'result') return [];
  const g = msg.gex;
  const arrays = [
    g.strikes, g.callGex, g.putGex, g.netGex, g.expiries, g.netGexByExpiry, g.netGexByStrikeExpiry,
    g.profileSpots, g.profileNetGex, g.moves, g.hedgeFlowUnits, g.hedgeFlowUsd, g.hedgeFlowUnitsGammaApprox,
    g.deltaExposure, g.vannaExposure, g.charmExposure,
    ...(g.classicNetGex ? [g.classicNetGex] : []),
    ...(g.scenarios ? [g.scenarios.units, g.scenarios.usd] : []),
  ];
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) seen.add(a.buffer);
  return [...seen];
}

/**
 * A selection from the page, checked field by field (it crosses a message boundary): null when its
 * source or currency is unusable, else the selection with every bad field at its default, and the
 * problems found in words. `venues` keeps the known ones that `available` accepts.
 */
export function parseSelection(raw: unknown, available: (v: VenueId) => boolean): { selection: ViewSelection | null; problems: string[] } {
  if (!raw || typeof raw !== 'object') return { selection: null, problems: ['selection'] };
  const r = raw as Partial<Record<keyof ViewSelection, unknown>>;
  const problems: string[] = [];
  const source = oneOf(SOURCES, r.source) ? r.source : null;
  if (!source) problems.push(`source ${String(r.source)}`);
  const currency = oneOf(CURRENCIES, r.currency) ? r.currency : null;
  if (!currency) problems.push(`currency ${String(r.currency)}`);
  const venues: VenueId[] = [];
  for (const v of Array.isArray(r.venues) ? r.venues : []) {
    if (isVenueId(v) && available(v) && !venues.includes(v)) venues.push(v);
    else problems.push(`venue ${String(v)}`);
  }
  const model = oneOf(WORKER_MODELS, r.model) ? r.model : 'classic';
  if (model !== r.model) problems.push(`model ${String(r.model)}`);
  const range = r.profileRange;
  const profileRange = typeof range === 'number' && Number.isFinite(range) && range > 0 && range <= 1 ? range : 0.2;
  if (profileRange !== range) problems.push(`range ${String(range)}`);
  const expiries = (Array.isArray(r.expiries) ? r.expiries : []).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  const ladder = checkLadder(r.ladder);
  if (!ladder) problems.push('ladder');
  const days = r.windowDays;
  const windowDays = typeof days === 'number' && Number.isInteger(days) && days >= WINDOW_DAYS.min && days <= WINDOW_DAYS.max ? days : WINDOW_DAYS.default;
  if (windowDays !== days) problems.push(`window ${String(days)}`);
  if (!source || !currency) return { selection: null, problems };
  return {
    selection: {
      source, venues, currency, expiries: [...new Set(expiries)].sort((a, b) => a - b), model, profileRange,
      includeExpiring: r.includeExpiring === true, afterNextExpiry: r.afterNextExpiry === true, ladder: ladder ?? { ...DEFAULT_LADDER },
      windowDays,
    },
    problems,
  };
}

/** The models the worker computes: `classic`, `short` and `flow` (from the trade tape the worker keeps). */
export const WORKER_MODELS: readonly DealerModelId[] = DEALER_MODELS;
