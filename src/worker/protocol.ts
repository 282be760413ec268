/**
 * THE boundary between the main thread and the gex worker. Nothing else crosses it.
 * Results, not ticks: the worker posts computed figures at a bounded rate; large arrays travel as
 * Float64Array whose buffers are transferred (see `transferablesOf`).
 */
import type { DealerModelId, GexResult } from '../engine/types.ts';
import type { Currency, PerpQuote, VenueId } from '../chain/model.ts';

export const PROTOCOL_VERSION = 1;

export type { Currency, DealerModelId, GexResult, PerpQuote, VenueId };

/** Where data comes from. Anything but `live` is labelled on screen. */
export type SourceKind = 'live' | 'sim' | 'replay';

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
  /** `options` or `perp` when a venue runs separate sockets; `all` when one socket carries both. */
  stream: string;
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
}

/** Requests answered once (used through @tanstack/react-query on the main thread). */
export type WorkerRequest =
  | { kind: 'expiries'; venues: VenueId[]; currency: Currency }
  | { kind: 'snapshot' }; // latest result, uncoalesced (tests)

export type ToWorker =
  | { type: 'hello'; protocolVersion: number; /** Base for local sources, e.g. ws://127.0.0.1:8787 */ localBase: string }
  | { type: 'select'; selection: ViewSelection }
  /** Backpressure: the main thread has painted result `seq`; the worker holds at most one newer result. */
  | { type: 'ack'; seq: number }
  | { type: 'request'; id: number; request: WorkerRequest }
  /** Liveness probe from the main thread's watchdog. */
  | { type: 'ping'; id: number };

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
  /** Selected expiries that are no longer listed (expired), epoch ms. */
  expiredSelected: number[];
}

export type FromWorker =
  | { type: 'hello'; protocolVersion: number }
  | ResultMessage
  | { type: 'health'; feeds: FeedHealth[]; atMs: number }
  | { type: 'response'; id: number; ok: true; data: unknown }
  | { type: 'response'; id: number; ok: false; error: string }
  | { type: 'pong'; id: number }
  /** A problem the user should read (bad selection, venue error); never a crash. */
  | { type: 'notice'; level: 'info' | 'warn' | 'error'; message: string };

/** Buffers to transfer with a message (the sender must not use them afterwards). */
export function transferablesOf(msg: FromWorker): ArrayBuffer[] {
  if (msg.type !== 'result') return [];
  const g = msg.gex;
  const arrays = [
    g.strikes, g.callGex, g.putGex, g.netGex, g.expiries, g.netGexByExpiry,
    g.profileSpots, g.profileNetGex, g.moves, g.hedgeFlowUnits, g.hedgeFlowUsd, g.hedgeFlowUnitsGammaApprox,
    g.deltaExposure, g.vannaExposure, g.charmExposure,
    ...(g.scenarios ? [g.scenarios.units, g.scenarios.usd] : []),
  ];
  const seen = new Set<ArrayBuffer>();
  for (const a of arrays) if (a.buffer instanceof ArrayBuffer) seen.add(a.buffer);
  return [...seen];
}
