/**
 * What the relay needs to know of each venue's frames, one line per venue (keyed by
 * src/shared/venues.ts's ids, so a venue without its line does not compile): the subscription key a
 * pushed frame belongs to (the protocol's key: Deribit channel, OKX canonical arg, Bybit topic,
 * Binance stream), and which topics are snapshot-then-delta books, folded so that a screen joining
 * late first gets the book as a snapshot. The OKX, Bybit and Binance lines are their replay specs
 * (`server/venues/<venue>/replay.ts`): a relay folds books exactly as a replay does.
 */
import type { VenueId } from '../../src/shared/venues.ts';
import type { RestAnswer } from '../http/rest-relay.ts';
import type { ReplaySpec } from '../replay/venue-source.ts';
import { notification } from '../venues/deribit/protocol.ts';
import { BookFold, isChainedBook } from '../venues/deribit/replay-book.ts';
import { okxReplay } from '../venues/okx/replay.ts';
import { BYBIT_REPLAY } from '../venues/bybit/replay.ts';
import { BINANCE_REPLAY } from '../venues/binance/replay.ts';

export interface RelayBooks {
  handles(key: string): boolean;
  /** The topic's state after this pushed frame. */
  fold(state: unknown, frame: Record<string, unknown>): unknown;
  /** The state as the frame a late subscriber gets first, or null while it is not whole. */
  snapshotText(key: string, state: unknown): string | null;
  /** Whether a late subscriber is pushed that snapshot; `seenPushed`: the upstream pushes snapshots on this topic. */
  pushOnSubscribe(key: string, seenPushed: boolean): boolean;
  isSnapshot(frame: Record<string, unknown>): boolean;
  /** A REST call that reads a book (OKX's snapshot since 2026): the topic and path, else null. */
  restTopic?(path: string, q: URLSearchParams): { path: string; key: string } | null;
  /** An upstream answer of that call as a snapshot frame to fold. */
  restFrame?(key: string, body: unknown): Record<string, unknown> | null;
  /** The fold as that call's answer (OKX 50026 while it is not whole). */
  restAnswer?(state: unknown, q: URLSearchParams): RestAnswer;
  /** Whether the fold is a whole book (a REST read is answered from it). */
  whole?(state: unknown): boolean;
}

export interface RelaySpec {
  /** The subscription key of a pushed data frame, or null when it is not data (a reply, ack, pong, heartbeat). */
  topicOf(frame: Record<string, unknown>): string | null;
  /** Whether a topic is a trade tape: its frames are events, each needed (never shed), not a latest state. */
  isTape(key: string): boolean;
  books?: RelayBooks;
}

/** A replay spec's view of the frames, as the relay reads them. */
function fromReplay(spec: ReplaySpec, isTape: (key: string) => boolean): RelaySpec {
  const b = spec.book;
  if (!b) return { topicOf: (f) => spec.topicOf(f), isTape };
  return {
    topicOf: (f) => spec.topicOf(f),
    isTape,
    books: {
      handles: (k) => b.handles(k),
      fold: (s, f) => b.fold(s, f),
      snapshotText: (_k, s) => {
        const snap = b.snapshot(s);
        return snap ? JSON.stringify(snap) : null;
      },
      pushOnSubscribe: (k, seen) => b.pushOnSubscribe?.(k, seen) ?? true,
      isSnapshot: (f) => b.isSnapshot?.(f) ?? false,
      restTopic: b.restTopic ? (p, q) => b.restTopic!(p, q) : undefined,
      restFrame: b.restFrame ? (k, body) => b.restFrame!(k, body) : undefined,
      restAnswer: b.restAnswer ? (s, q) => b.restAnswer!(s, q) : undefined,
      // answered from the fold only while it is whole (a venue's own "try again" otherwise)
      whole: b.restAnswer ? (s) => s !== undefined && answersOk(b.restAnswer!(s, new URLSearchParams())) : undefined,
    },
  };
}

/** A REST answer that is a success: HTTP 200 and, where the venue wraps answers, its code "0". */
function answersOk(a: RestAnswer): boolean {
  const code = typeof a.body === 'object' && a.body !== null ? (a.body as { code?: unknown }).code : undefined;
  return a.status === 200 && (code === undefined || code === '0' || code === 0);
}

/** Deribit: notifications keyed by channel; chained books (`book.{instrument}.{interval}`) folded as the replay does. */
const DERIBIT_RELAY: RelaySpec = {
  topicOf(f) {
    if (f.method !== 'subscription') return null;
    const p = f.params as { channel?: unknown } | undefined;
    return typeof p?.channel === 'string' ? p.channel : null;
  },
  isTape: (key) => key.startsWith('trades.'),
  books: {
    handles: isChainedBook,
    fold(state, frame) {
      const fold = state instanceof BookFold ? state : new BookFold();
      fold.fold((frame.params as { data?: unknown } | undefined)?.data, 0);
      return fold;
    },
    snapshotText(key, state) {
      const snap = state instanceof BookFold ? state.snapshot() : null;
      return snap ? notification(key, snap) : null;
    },
    // Deribit sends a snapshot on every subscribe
    pushOnSubscribe: () => true,
    isSnapshot: (f) => ((f.params as { data?: { type?: unknown } } | undefined)?.data?.type === 'snapshot'),
  },
};

const SPECS: Record<VenueId, RelaySpec> = {
  deribit: DERIBIT_RELAY,
  // the trade channels the clients take (src/feeds/<venue>/trades.ts)
  okx: fromReplay(okxReplay(), (key) => key.includes('"option-trades"')),
  bybit: fromReplay(BYBIT_REPLAY, (key) => key.startsWith('publicTrade.')),
  binance: fromReplay(BINANCE_REPLAY, (key) => key.endsWith('@optionTrade')),
};

export function relaySpec(venue: VenueId): RelaySpec {
  const s = new Map(Object.entries(SPECS)).get(venue);
  if (!s) throw new Error(`not a venue: ${String(venue).slice(0, 20)}`);
  return s;
}
