/**
 * How an OKX recording is replayed (see ../venue-replay.ts): data frames are `{arg, data}` pushes keyed
 * by their canonical arg; `books` is folded so a late subscriber gets a snapshot (with OKX's checksum
 * of the top 25 levels and the last seqId, which the next recorded update chains on); REST instrument
 * lists not in the recording are derived from the option ids it names.
 */
import type { RestAnswer } from '../venue-hub.ts';
import { applyLevels, sortedLevels, type ReplaySpec } from '../venue-replay.ts';
import { OKX_REST_PREFIX, okxChecksum, okxKey } from './protocol.ts';
import { OKX_OPTION_CT_MULT, OKX_OPTION_CT_VAL, okxSwapInstruments } from './sim.ts';

type Lvl = readonly string[];

interface OkxBook {
  arg: unknown;
  bids: Map<string, Lvl>;
  asks: Map<string, Lvl>;
  ts: unknown;
  seqId: unknown;
}

const OPTION_ID = /^([A-Z0-9]+)-(USD|USDC)-(\d{2})(\d{2})(\d{2})-(\d+(?:\.\d+)?)-([CP])$/;
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
    data.push({
      instType: 'OPTION', instId: id, instFamily: fam, uly: fam, optType: m[7], stk: m[6], expTime: String(expTime), state: 'live',
      // OKX's inverse option contract: 1 x 0.1 coin (the recorded open-interest pushes show oiCcy = oi x 0.1)
      ctVal: String(OKX_OPTION_CT_VAL), ctMult: String(OKX_OPTION_CT_MULT), ctValCcy: m[1], settleCcy: m[1], listTime: '', category: '1',
    });
  }
  if (data.length === 0) return { status: 200, body: { code: '51000', msg: 'Parameter instFamily error', data: [] } };
  return { status: 200, body: { code: '0', msg: '', data } };
}

export const OKX_REPLAY: ReplaySpec = {
  venue: 'okx',
  restPrefix: OKX_REST_PREFIX,
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
    fold(state, f) {
      const d = Array.isArray(f.data) ? (f.data[0] as Record<string, unknown> | undefined) : undefined;
      const prev = state as OkxBook | undefined;
      const book: OkxBook = prev && f.action !== 'snapshot' ? prev : { arg: f.arg, bids: new Map(), asks: new Map(), ts: undefined, seqId: undefined };
      if (!d) return book;
      applyLevels(book.bids, d.bids);
      applyLevels(book.asks, d.asks);
      book.ts = d.ts;
      book.seqId = d.seqId;
      return book;
    },
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
  },
  deriveRest(path, q, known, nowMs) {
    if (path !== '/api/v5/public/instruments') return { status: 404, body: { code: '50030', msg: 'Illegal request path', data: [] } };
    return deriveInstruments(q, known, nowMs);
  },
};
