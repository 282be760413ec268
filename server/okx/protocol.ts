/**
 * OKX v5 public websocket on the shared simulated market (`/okx/ws/v5/public`), plus the REST
 * instrument lists the client discovers options with (`/okx/rest/api/v5/...`).
 *
 * OKX's own listing: inverse `C-USD` option families, one contract = ctVal 1 x ctMult 0.1 coin,
 * every simulator expiry but the farthest quarterly, every third strike dropped away from the money,
 * open interest about a third of Deribit's. The hedge-side perpetual is the linear `C-USDT-SWAP`
 * (ctVal 0.01 BTC / 0.1 ETH), books in contracts with OKX's CRC32 checksum and seqId/prevSeqId.
 * Numbers are strings, as on OKX. Keepalive: text `ping` -> `pong`.
 */
import { CURRENCIES, type Currency, type MarketSim, type OptionDef } from '../sim/market.ts';
import { hash01 } from '../sim/prng.ts';
import { GENERIC_MALFORMED, VenueChain, num, type RestAnswer, type VenueHub, type VenueProtocol, type VenueSession } from '../venue-hub.ts';

export const OKX_WS_PATH = '/okx/ws/v5/public';
export const OKX_REST_PREFIX = '/okx/rest';
/** Coin per option contract (ctVal x ctMult). */
export const OKX_OPTION_CT_VAL = 1;
export const OKX_OPTION_CT_MULT = 0.1;
export const OKX_SWAP_CT_VAL: Record<Currency, number> = { BTC: 0.01, ETH: 0.1 };
/** Share of the simulator's (Deribit-sized) open interest listed on OKX. */
export const OKX_OI_SHARE = 0.3;
const OKX_SUBSCRIBES_PER_HOUR = 480;
const SENTINEL = '987654321.5';

export function okxExpiryCode(ms: number): string {
  const d = new Date(ms);
  return `${String(d.getUTCFullYear() % 100).padStart(2, '0')}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`;
}

export function okxOptionId(d: OptionDef): string {
  return `${d.currency}-USD-${okxExpiryCode(d.expiryMs)}-${d.strike}-${d.isCall ? 'C' : 'P'}`;
}

const SWAP: Record<string, Currency> = { 'BTC-USDT-SWAP': 'BTC', 'ETH-USDT-SWAP': 'ETH' };
const INDEX_IDS: Record<string, Currency> = { 'BTC-USD': 'BTC', 'ETH-USD': 'ETH', 'BTC-USDT': 'BTC', 'ETH-USDT': 'ETH' };
const FAMILY: Record<string, Currency> = { 'BTC-USD': 'BTC', 'ETH-USD': 'ETH' };

interface BookState {
  bids: Map<string, string>;
  asks: Map<string, string>;
  seqId: number;
}

type Topic =
  | { ch: 'opt-summary'; c: Currency; arg: Record<string, string> }
  | { ch: 'index-tickers'; c: Currency; instId: string; arg: Record<string, string> }
  | { ch: 'mark-price' | 'funding-rate' | 'books'; c: Currency; instId: string; arg: Record<string, string> }
  | { ch: 'open-interest'; c: Currency; instId: string; swap: boolean; arg: Record<string, string> };

let crcTable: Int32Array | null = null;
/** CRC32 (signed), as OKX's book checksum uses it. */
export function crc32Signed(text: string): number {
  if (!crcTable) {
    crcTable = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c;
    }
  }
  let crc = -1;
  for (let i = 0; i < text.length; i++) crc = crcTable[(crc ^ text.charCodeAt(i)) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) | 0;
}

/** OKX checksum of a book: best 25 of each side interleaved `bidPx:bidSz:askPx:askSz:...`. */
export function okxChecksum(bids: [string, string][], asks: [string, string][]): number {
  const parts: string[] = [];
  for (let i = 0; i < 25; i++) {
    if (i < bids.length) parts.push(bids[i][0], bids[i][1]);
    if (i < asks.length) parts.push(asks[i][0], asks[i][1]);
  }
  return crc32Signed(parts.join(':'));
}

export class OkxProtocol implements VenueProtocol {
  readonly paths = [OKX_WS_PATH];
  readonly chain: VenueChain;
  private idCache = new Map<Currency, { list: OptionDef[]; byId: Map<string, OptionDef> }>();
  private malformedIdx = 0;
  private badIdx = 0;
  readonly injected = { malformed: 0, badNumbers: 0, oversize: 0, gap: 0 };

  constructor(readonly hub: VenueHub) {
    this.chain = new VenueChain(hub.sim, {
      keepExpiry: (_e, i, all) => i < all.length - 1,
      keepStrike: (_k, i, _n, atm) => Math.abs(i - atm) <= 4 || i % 3 !== 2,
    });
  }

  private get sim(): MarketSim {
    return this.hub.sim;
  }

  /** OKX option instId -> simulator option, for the current listing. */
  byId(c: Currency): Map<string, OptionDef> {
    const list = this.chain.options(c);
    const hit = this.idCache.get(c);
    if (hit && hit.list === list) return hit.byId;
    const byId = new Map(list.map((d) => [okxOptionId(d), d]));
    this.idCache.set(c, { list, byId });
    return byId;
  }

  /** Contracts of open interest (whole contracts of 0.1 coin). */
  oiContracts(d: OptionDef): number {
    return Math.round((this.sim.openInterest(d) * OKX_OI_SHARE) / (OKX_OPTION_CT_VAL * OKX_OPTION_CT_MULT));
  }

  // ---- inbound ----------------------------------------------------------------------------------

  onMessage(s: VenueSession, text: string): void {
    if (text === 'ping') {
      s.reply('pong');
      return;
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      s.reply(this.error(s, '60012', `Invalid request: ${text.slice(0, 60)}`));
      return;
    }
    const m = msg as { op?: unknown; args?: unknown };
    if (typeof msg !== 'object' || msg === null || (m.op !== 'subscribe' && m.op !== 'unsubscribe') || !Array.isArray(m.args) || m.args.length === 0) {
      s.reply(this.error(s, '60012', `Invalid request: ${text.slice(0, 60)}`));
      return;
    }
    const n = (s.counters.subscribes ?? 0) + 1;
    s.counters.subscribes = n;
    if (n > OKX_SUBSCRIBES_PER_HOUR && Date.now() - s.openedAt < 3_600_000) {
      s.reply(this.error(s, '60014', 'Requests too frequent.'));
      return;
    }
    const fresh: string[] = [];
    for (const a of m.args) {
      const t = this.parseArg(a);
      if (!t) {
        const r = typeof a === 'object' && a !== null ? (a as Record<string, unknown>) : {};
        s.reply(this.error(s, '60018', `Wrong URL or channel:${String(r.channel).slice(0, 40)},instId:${String(r.instId ?? r.instFamily).slice(0, 40)} doesn't exist`));
        continue;
      }
      const key = JSON.stringify(t.arg);
      if (m.op === 'subscribe') {
        if (!s.subs.has(key)) fresh.push(key);
        s.subs.add(key);
      } else {
        s.subs.delete(key);
        s.state.delete(key);
      }
      s.reply(JSON.stringify({ event: m.op, arg: t.arg, connId: s.connId }));
    }
    // books: the snapshot goes out at once, as on OKX
    for (const key of fresh) {
      const t = this.parseKey(key);
      if (t?.ch === 'books') this.sendBook(s, key, t);
    }
  }

  private error(s: VenueSession, code: string, msg: string): string {
    return JSON.stringify({ event: 'error', code, msg, connId: s.connId });
  }

  private parseArg(a: unknown): Topic | null {
    if (typeof a !== 'object' || a === null || Array.isArray(a)) return null;
    const r = a as Record<string, unknown>;
    const channel = r.channel;
    if (channel === 'opt-summary') {
      const fam = typeof r.instFamily === 'string' ? r.instFamily : typeof r.uly === 'string' ? r.uly : '';
      const c = FAMILY[fam];
      return c ? { ch: 'opt-summary', c, arg: { channel, instFamily: fam } } : null;
    }
    const instId = typeof r.instId === 'string' ? r.instId : '';
    switch (channel) {
      case 'index-tickers': {
        const c = INDEX_IDS[instId];
        return c ? { ch: channel, c, instId, arg: { channel, instId } } : null;
      }
      case 'mark-price':
      case 'funding-rate':
      case 'books': {
        const c = SWAP[instId];
        return c ? { ch: channel, c, instId, arg: { channel, instId } } : null;
      }
      case 'open-interest': {
        const c = SWAP[instId];
        if (c) return { ch: channel, c, instId, swap: true, arg: { channel, instId } };
        for (const cc of CURRENCIES) if (this.byId(cc).has(instId)) return { ch: channel, c: cc, instId, swap: false, arg: { channel, instId } };
        return null;
      }
      default:
        return null;
    }
  }

  private parseKey(key: string): Topic | null {
    try {
      return this.parseArg(JSON.parse(key));
    } catch {
      return null;
    }
  }

  // ---- outbound ---------------------------------------------------------------------------------

  tick(tickNo: number): void {
    const hub = this.hub;
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return;
    const malformedNow = hub.fault('malformed') && tickNo % 5 === 0;
    const cache = new Map<string, string | null>();
    for (const s of hub.sessions) {
      if (malformedNow) this.sendMalformed(s);
      for (const key of s.subs) {
        const t = this.parseKey(key);
        if (!t) {
          s.subs.delete(key); // e.g. an option that expired: OKX stops pushing it
          continue;
        }
        if (t.ch === 'books') {
          this.sendBook(s, key, t);
          continue;
        }
        const every = t.ch === 'opt-summary' ? 10 : t.ch === 'open-interest' ? 30 : t.ch === 'funding-rate' ? 10 : 2;
        if (tickNo % every !== 0) continue;
        if (hub.fault('badNumbers') && (t.ch === 'opt-summary' || (t.ch === 'open-interest' && !t.swap))) {
          for (const f of this.frames(t, true)) s.push(key, f);
          continue;
        }
        let text = cache.get(key);
        if (text === undefined) {
          const fs = this.frames(t, false);
          text = fs.length === 0 ? null : fs.join('\n');
          cache.set(key, text);
        }
        if (text !== null) for (const f of text.split('\n')) s.push(key, f);
      }
    }
  }

  /** Frames of one topic now (opt-summary is split in chunks of 100 rows, as OKX does). */
  frames(t: Topic, bad: boolean): string[] {
    const sim = this.sim;
    const ts = String(this.hub.nowMs());
    switch (t.ch) {
      case 'opt-summary': {
        const rows: Record<string, string>[] = [];
        for (const d of this.chain.options(t.c)) {
          const q = sim.quote(d.name);
          if (!q) continue;
          rows.push({
            instType: 'OPTION',
            instId: okxOptionId(d),
            uly: `${t.c}-USD`,
            delta: num(q.delta - q.markPrice, 10),
            gamma: num(q.gamma * q.forward, 10),
            vega: num(q.vega / q.forward, 10),
            theta: num(q.theta / q.forward, 10),
            lever: num(q.markPrice > 0 ? 1 / q.markPrice : 10_000, 6),
            markVol: num(q.markIvPct / 100, 10),
            bidVol: num(q.bidIvPct / 100, 10),
            askVol: num(q.askIvPct / 100, 10),
            realVol: '',
            deltaBS: num(q.delta, 10),
            gammaBS: num(q.gamma, 10),
            thetaBS: num(q.theta, 10),
            vegaBS: num(q.vega, 10),
            ts,
            fwdPx: num(q.forward, 8),
            volLv: num(q.markIvPct / 100, 10),
          });
        }
        if (bad && rows.length >= 5) {
          const k = this.badIdx++;
          rows[0].markVol = '1000000000';
          rows[1].markVol = 'NaN';
          rows[2].fwdPx = '-1';
          rows[3].markVol = k % 2 === 0 ? '1e400' : '-0.5';
          rows[4].ts = 'soon';
          this.injected.badNumbers += 5;
        }
        const out: string[] = [];
        const arg = t.arg;
        for (let i = 0; i < rows.length; i += 100) out.push(JSON.stringify({ arg, data: rows.slice(i, i + 100) }));
        return out;
      }
      case 'index-tickers': {
        const p = sim.index(t.c);
        return [JSON.stringify({ arg: t.arg, data: [{ instId: t.instId, idxPx: num(p, 2), high24h: num(p * 1.02, 2), low24h: num(p * 0.98, 2), open24h: num(p, 2), sodUtc0: num(p, 2), sodUtc8: num(p, 2), ts }] })];
      }
      case 'mark-price': {
        const pp = sim.perp(t.c);
        return [JSON.stringify({ arg: t.arg, data: [{ instType: 'SWAP', instId: t.instId, markPx: num(pp.markPrice, 2), ts }] })];
      }
      case 'funding-rate': {
        const pp = sim.perp(t.c);
        const eight = 8 * 3_600_000;
        const fundingTime = Math.ceil((this.hub.nowMs() + 1) / eight) * eight;
        return [
          JSON.stringify({
            arg: t.arg,
            data: [{ instType: 'SWAP', instId: t.instId, method: 'current_period', fundingRate: num(pp.funding8h, 10), nextFundingRate: '', fundingTime: String(fundingTime), nextFundingTime: String(fundingTime + eight), minFundingRate: '-0.00375', maxFundingRate: '0.00375', settState: 'settled', settFundingRate: num(pp.funding8h, 10), premium: '0.0001', ts }],
          }),
        ];
      }
      case 'open-interest': {
        if (t.swap) {
          const pp = sim.perp(t.c);
          const coin = (pp.openInterestUsd / pp.markPrice) * 0.4;
          const oi = Math.round(coin / OKX_SWAP_CT_VAL[t.c]);
          const oiCcy = oi * OKX_SWAP_CT_VAL[t.c];
          return [JSON.stringify({ arg: t.arg, data: [{ instType: 'SWAP', instId: t.instId, oi: String(oi), oiCcy: num(oiCcy, 4), oiUsd: num(oiCcy * pp.markPrice, 2), ts }] })];
        }
        const d = this.byId(t.c).get(t.instId);
        if (!d) return [];
        const oi = this.oiContracts(d);
        let oiS = String(oi);
        let oiCcyS = num(oi * OKX_OPTION_CT_VAL * OKX_OPTION_CT_MULT, 4);
        if (bad && this.badIdx++ % 4 === 0) {
          if (this.badIdx % 8 < 4) oiS = '-5';
          else oiCcyS = SENTINEL;
          this.injected.badNumbers++;
        }
        const text = JSON.stringify({ arg: t.arg, data: [{ instType: 'OPTION', instId: t.instId, oi: oiS, oiCcy: oiCcyS, oiUsd: num(oi * 0.1 * sim.index(t.c), 2), ts }] });
        return [text.replace(`"${SENTINEL}"`, '"1e400"')];
      }
      default:
        return [];
    }
  }

  /** The swap book in contracts, levels as OKX writes them. */
  bookLevels(c: Currency): { bids: [string, string, string, string][]; asks: [string, string, string, string][] } {
    const book = this.sim.book(c);
    const ct = OKX_SWAP_CT_VAL[c];
    const conv = (side: [number, number][]) =>
      side.slice(0, 400).map(([px, usd]): [string, string, string, string] => {
        const contracts = Math.max(1, Math.round(((usd / px) * 0.5) / ct));
        return [num(px, 2), String(contracts), '0', String(1 + Math.floor(hash01(this.sim.seed, 'okx', c, px) * 9))];
      });
    return { bids: conv(book.bids), asks: conv(book.asks) };
  }

  private sendBook(s: VenueSession, key: string, t: Topic): void {
    if (t.ch !== 'books') return;
    if (this.hub.fault('silent') || this.hub.fault('heartbeatOnly')) return;
    const seqId = this.sim.bookChangeId(t.c);
    const prev = s.state.get(key) as BookState | undefined;
    if (prev && prev.seqId === seqId) return;
    const lv = this.bookLevels(t.c);
    const bids = new Map(lv.bids.map((l) => [l[0], l[1]]));
    const asks = new Map(lv.asks.map((l) => [l[0], l[1]]));
    const checksum = okxChecksum(
      lv.bids.map((l) => [l[0], l[1]]),
      lv.asks.map((l) => [l[0], l[1]]),
    );
    const ts = String(this.hub.nowMs());
    if (!prev) {
      const text = JSON.stringify({ arg: t.arg, action: 'snapshot', data: [{ asks: lv.asks, bids: lv.bids, ts, checksum, prevSeqId: -1, seqId }] });
      if (s.push(key, text, true)) s.state.set(key, { bids, asks, seqId });
      return;
    }
    const diff = (old: Map<string, string>, now: [string, string, string, string][]) => {
      const out: [string, string, string, string][] = [];
      const seen = new Set<string>();
      for (const l of now) {
        seen.add(l[0]);
        if (old.get(l[0]) !== l[1]) out.push(l);
      }
      for (const px of old.keys()) if (!seen.has(px)) out.push([px, '0', '0', '0']);
      return out;
    };
    let prevSeqId = prev.seqId;
    if (s.gapPending) {
      s.gapPending = false;
      prevSeqId -= 3;
      this.injected.gap++;
    }
    const text = JSON.stringify({ arg: t.arg, action: 'update', data: [{ asks: diff(prev.asks, lv.asks), bids: diff(prev.bids, lv.bids), ts, checksum, prevSeqId, seqId }] });
    // diffs are against what this client last received, so a skipped frame only makes the next diff bigger
    if (s.push(key, text, true)) s.state.set(key, { bids, asks, seqId });
  }

  private sendMalformed(s: VenueSession): void {
    const list: (string | Buffer)[] = [
      ...GENERIC_MALFORMED,
      '{"arg":{"channel":"opt-summary","instFamily":"BTC-USD"},"data":"not an array"}',
      '{"arg":{"channel":"no-such-channel","instId":"BTC-USD"},"data":[{"x":"1"}]}',
      '{"arg":{"channel":"index-tickers","instId":"BTC-USD"},"data":[{"instId":"BTC-USD","idxPx":"abc","ts":"1"}]}',
    ];
    const item = list[this.malformedIdx++ % list.length];
    this.injected.malformed++;
    if (typeof item === 'string') s.sendRaw(item, false);
    else s.sendRaw(item, false, true);
  }

  sendOversize(): number {
    const pad = 'x'.repeat(10 * 1024 * 1024);
    let n = 0;
    for (const s of this.hub.sessions) {
      const text = JSON.stringify({ arg: { channel: 'index-tickers', instId: 'BTC-USD' }, data: [{ instId: 'BTC-USD', idxPx: '1', ts: String(this.hub.nowMs()), padding: pad }] });
      if (s.sendRaw(text, true)) n++;
    }
    this.injected.oversize += n;
    return n;
  }

  // ---- REST (simulated answers) -----------------------------------------------------------------

  /** `GET /api/v5/public/instruments` for OPTION (instFamily/uly) and SWAP (instId). */
  rest(path: string, q: URLSearchParams): RestAnswer {
    if (path !== '/api/v5/public/instruments') return { status: 404, body: { code: '50030', msg: 'Illegal request path', data: [] } };
    const type = q.get('instType');
    if (type === 'OPTION') {
      const fam = q.get('instFamily') ?? q.get('uly') ?? '';
      const c = FAMILY[fam];
      if (!c) return { status: 200, body: { code: '51000', msg: 'Parameter instFamily error', data: [] } };
      const listTime = String(this.hub.nowMs());
      const data = this.chain.options(c).map((d) => ({
        alias: '',
        baseCcy: '',
        category: '1',
        ctMult: num(OKX_OPTION_CT_MULT),
        ctType: '',
        ctVal: num(OKX_OPTION_CT_VAL),
        ctValCcy: c,
        expTime: String(d.expiryMs),
        instFamily: fam,
        instId: okxOptionId(d),
        instType: 'OPTION',
        lever: '',
        listTime: String(d.createdMs || listTime),
        lotSz: '1',
        maxLmtSz: '10000',
        maxMktSz: '5000',
        minSz: '1',
        optType: d.isCall ? 'C' : 'P',
        quoteCcy: '',
        settleCcy: c,
        state: 'live',
        stk: String(d.strike),
        tickSz: '0.0005',
        uly: fam,
      }));
      return { status: 200, body: { code: '0', msg: '', data } };
    }
    if (type === 'SWAP') {
      const id = q.get('instId');
      const ids = id ? (SWAP[id] ? [id] : []) : Object.keys(SWAP);
      if (id && ids.length === 0) return { status: 200, body: { code: '51001', msg: "Instrument ID doesn't exist", data: [] } };
      const data = ids.map((instId) => {
        const c = SWAP[instId];
        return {
          alias: '', baseCcy: '', category: '1', ctMult: '1', ctType: 'linear', ctVal: num(OKX_SWAP_CT_VAL[c]), ctValCcy: c, expTime: '',
          instFamily: `${c}-USDT`, instId, instType: 'SWAP', lever: '100', listTime: '1611916828000', lotSz: '1', minSz: '1', optType: '',
          quoteCcy: '', settleCcy: 'USDT', state: 'live', stk: '', tickSz: c === 'BTC' ? '0.1' : '0.01', uly: `${c}-USDT`,
        };
      });
      return { status: 200, body: { code: '0', msg: '', data } };
    }
    return { status: 200, body: { code: '51000', msg: 'Parameter instType error', data: [] } };
  }
}

/** Read-only OKX REST paths the pass-through relays live, with their allowed query keys. */
export const OKX_LIVE_BASE = 'https://www.okx.com';
export const OKX_RELAY_PATHS: Record<string, readonly string[]> = {
  '/api/v5/public/instruments': ['instType', 'instFamily', 'uly', 'instId'],
};

