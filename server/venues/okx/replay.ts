/**
 * How an OKX recording is replayed (see ../../replay/venue-source.ts): data frames are `{arg, data}` pushes keyed
 * by their canonical arg; `books` is folded so a late subscriber gets a snapshot (pushed, with OKX's
 * checksum of the top 25 levels, for sessions of the venue before 2026; over REST otherwise) whose seqId
 * the next recorded update chains on; REST instrument lists not in the recording are derived from the
 * option ids it names.
 */
import type { RestAnswer } from '../../http/rest-relay.ts';
import type { ReplaySpec } from '../../replay/venue-source.ts';
import { applyLevels, sortedLevels } from '../books.ts';
import { firstRow, venueTime } from '../../replay/venue-clock.ts';
import { OKX_REST_PREFIX, OKX_WS_PATH, okxChecksum, okxKey, type OkxBooksMode } from './protocol.ts';
import { OKX_OPTION_CT_MULT, OKX_OPTION_CT_VAL, OKX_UM_CT_VAL, OKX_UM_SETTLE, okxSwapInstruments } from './sim.ts';

type Lvl = readonly string[];

interface OkxBook {
  arg: unknown;
  bids: Map<string, Lvl>;
  asks: Map<string, Lvl>;
  ts: unknown;
  seqId: unknown;
  /** A whole book: from a snapshot, with every later update on the chain. */
  whole: boolean;
  /** seqId of the REST snapshot in place until the first update after it. */
  joinAt: number | null;
}

const OPTION_ID = /^([A-Z0-9]+)-(USD|USDC|USD_UM)-(\d{2})(\d{2})(\d{2})-(\d+(?:\.\d+)?)-([CP])$/;
const BOOK_KEY = /^\{"channel":"books(?:-l2-tbt|50-l2-tbt)?",/;

function argOf(key: string): Record<string, string> | null {
  try {
    const a: unknown = JSON.parse(key);
    return typeof a === 'object' && a !== null ? (a as Record<string, string>) : null;
  } catch {
    return null;
  }
}

/** `GET /api/v5/public/instruments` from the option ids a recording names (unexpired at `nowMs`). */
function deriveInstruments(q: URLSearchParams, known: ReadonlySet<string>, nowMs: number): RestAnswer {
  const type = q.get('instType');
  if (type === 'SWAP') return okxSwapInstruments(q.get('instId'));
  if (type !== 'OPTION') return { status: 200, body: { code: '51000', msg: 'Parameter instType error', data: [] } };
  const fam = q.get('instFamily') ?? q.get('uly') ?? '';
  const data: Record<string, string>[] = [];
  for (const id of [...known].sort()) {
    const m = OPTION_ID.exec(id);
    if (!m || `${m[1]}-${m[2]}` !== fam) continue;
    const expTime = Date.UTC(2000 + Number(m[3]), Number(m[4]) - 1, Number(m[5]), 8);
    if (expTime <= nowMs) continue;
    // OKX's inverse option contract: 1 x 0.1 coin (the recorded open-interest pushes show oiCcy = oi x 0.1);
    // the USD-margined one as the simulator lists it (BTC and ETH only)
    const um = m[2] === 'USD_UM';
    const umCt = um ? OKX_UM_CT_VAL[m[1] as 'BTC' | 'ETH'] : undefined;
    if (um && umCt === undefined) continue;
    data.push({
      instType: 'OPTION', instId: id, instFamily: fam, uly: `${m[1]}-USD`, optType: m[7], stk: m[6], expTime: String(expTime), state: 'live',
      ctVal: String(umCt ?? OKX_OPTION_CT_VAL), ctMult: um ? '1' : String(OKX_OPTION_CT_MULT), ctValCcy: m[1], settleCcy: um ? OKX_UM_SETTLE : m[1], listTime: '', category: '1',
    });
  }
  if (data.length === 0) return { status: 200, body: { code: '51000', msg: 'Parameter instFamily error', data: [] } };
  return { status: 200, body: { code: '0', msg: '', data } };
}

/** The venue time of an OKX push: its first row's `ts`. */
export const okxStamp = (f: Record<string, unknown>): number | null => venueTime(firstRow(f.data)?.ts);

/**
 * The OKX replay spec. `books` (the 2026 venue pushes no snapshot, the client asks REST): a late
 * subscriber is pushed the fold as a snapshot when the recording itself holds pushed snapshots (a
 * session recorded before 23 June 2026, e.g. the real 2022 one), or always with `mode` `legacy`, never
 * with `current`. `GET /api/v5/market/books` is answered from the fold either way, and recorded answers
 * of it are folded at their recorded time (the chain's updates then continue their seqId).
 */
export function okxReplay(mode?: OkxBooksMode): ReplaySpec {
  return {
    venue: 'okx',
    restPrefix: OKX_REST_PREFIX,
    tradeHistoryPaths: new Set(['/api/v5/public/option-trades']),
    timeFields: new Set(['ts']),
    idFields: new Set(['instId', 'instFamily', 'uly']),
    topicOf: (f) => (f.event === undefined && Array.isArray(f.data) ? okxKey(f.arg) : null),
    servable(key, _path, known) {
      const a = argOf(key);
      const id = a?.instId ?? a?.instFamily;
      return id !== undefined && known.has(id);
    },
    book: {
      handles: (key) => BOOK_KEY.test(key),
      fold: foldBook,
      snapshot(state) {
        const b = state as OkxBook;
        if (b.bids.size === 0 && b.asks.size === 0) return null;
        const bids = sortedLevels(b.bids, true);
        const asks = sortedLevels(b.asks, false);
        const pair = (l: Lvl): [string, string] => [l[0], l[1]];
        const checksum = okxChecksum(bids.slice(0, 25).map(pair), asks.slice(0, 25).map(pair));
        const data: Record<string, unknown> = { asks, bids, ts: b.ts, checksum };
        if (b.seqId !== undefined) Object.assign(data, { prevSeqId: -1, seqId: b.seqId });
        return { arg: b.arg, action: 'snapshot', data: [data] };
      },
      pushOnSubscribe: (_key, recorded) => (mode === undefined ? recorded : mode === 'legacy'),
      isSnapshot: (f) => f.action === 'snapshot',
      seqOf: (f) => {
        const seq = firstRow(f.data)?.seqId;
        return typeof seq === 'number' ? seq : null;
      },
      restTopic(path, q) {
        const instId = q.get('instId');
        return path === '/api/v5/market/books' && instId ? { path: OKX_WS_PATH, key: JSON.stringify({ channel: 'books', instId }) } : null;
      },
      restFrame(key, body) {
        const b = body as { code?: unknown; data?: unknown } | null;
        const row = b && b.code === '0' && Array.isArray(b.data) ? (b.data[0] as Record<string, unknown> | undefined) : undefined;
        return row ? { arg: argOf(key), action: 'snapshot', fromRest: true, data: [row] } : null;
      },
      restAnswer(state, q) {
        const b = state as OkxBook | undefined;
        // Before the recording's first snapshot (pushed or fetched), or while its chain is broken, there
        // is no whole book to give: OKX's "try again later".
        if (!b || !b.whole) return { status: 200, body: { code: '50026', msg: 'System error, please try again later.', data: [] } };
        const sz = Math.max(1, Math.min(400, Number(q.get('sz') ?? 1) || 1));
        const data: Record<string, unknown> = { asks: sortedLevels(b.asks, false).slice(0, sz), bids: sortedLevels(b.bids, true).slice(0, sz), ts: b.ts };
        if (typeof b.seqId === 'number') data.seqId = b.seqId;
        return { status: 200, body: { code: '0', msg: '', data: [data] } };
      },
    },
    deriveRest(path, q, known, nowMs) {
      if (path !== '/api/v5/public/instruments') return { status: 404, body: { code: '50030', msg: 'Illegal request path', data: [] } };
      return deriveInstruments(q, known, nowMs);
    },
  };
}

/**
 * One `books` frame onto the fold. A snapshot (pushed, or a REST answer: `fromRest`) replaces it; after a
 * REST snapshot at seqId S, updates up to S are contained in it and skipped, and the first later one
 * may straddle S. The fold is `whole` from a snapshot on, until an update does not continue the chain.
 */
function foldBook(state: unknown, f: Record<string, unknown>): OkxBook {
  const d = Array.isArray(f.data) ? (f.data[0] as Record<string, unknown> | undefined) : undefined;
  const prev = state as OkxBook | undefined;
  const fresh = (): OkxBook => ({ arg: f.arg ?? prev?.arg, bids: new Map(), asks: new Map(), ts: undefined, seqId: undefined, whole: false, joinAt: null });
  if (f.action === 'snapshot') {
    const book = fresh();
    book.whole = true;
    if (f.fromRest === true && typeof d?.seqId === 'number') book.joinAt = d.seqId;
    return apply(book, d);
  }
  const book = prev ?? fresh();
  if (!d) return book;
  const seqId = typeof d.seqId === 'number' ? d.seqId : undefined;
  const prevSeqId = typeof d.prevSeqId === 'number' ? d.prevSeqId : undefined;
  if (book.joinAt !== null) {
    if (seqId !== undefined && seqId <= book.joinAt) return book;
    if (prevSeqId !== undefined && prevSeqId > book.joinAt) book.whole = false;
    book.joinAt = null;
  } else if (typeof book.seqId === 'number' && prevSeqId !== undefined && prevSeqId !== book.seqId) book.whole = false;
  return apply(book, d);
}

function apply(book: OkxBook, d: Record<string, unknown> | undefined): OkxBook {
  if (!d) return book;
  applyLevels(book.bids, d.bids);
  applyLevels(book.asks, d.asks);
  book.ts = d.ts;
  book.seqId = d.seqId;
  return book;
}
