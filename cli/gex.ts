/**
 * Headless GEX on a saved Deribit snapshot.
 *
 *   npm run gex -- snapshot --instruments FILE --summary FILE [--now MS] [--model classic|short|flow]
 *                           [--trades FILE] [--window-start MS] [--expiries LIST] [--currency BTC|ETH]
 *                           [--hours LIST] [--vol-shifts LIST] [--expiring] [--after-next-expiry] [--json]
 *
 * FILEs are Deribit's own responses saved verbatim: the JSON-RPC frames of public/get_instruments and
 * public/get_book_summary_by_currency (a bare result array is accepted too), and for the flow model
 * public/get_last_trades_by_currency_and_time responses, one per line. Spot = the summary's
 * estimated_delivery_price (the index); valuation time = --now or the summary's newest
 * creation_timestamp. Numbers follow ../shared/design.md. Bad files or arguments: one error line on
 * stderr, exit code 2.
 *
 * One file on purpose (~570 lines): the one command end to end (arguments, Deribit's files, the engine,
 * the JSON and table output); none of it is used elsewhere.
 */
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ChainStore } from '../src/chain/store.ts';
import { aggregateTape, type TapeSkips } from '../src/chain/tape.ts';
import type { Currency, TapeTrade } from '../src/chain/model.ts';
import { computeGex, EXCLUSION_REASONS, DEALER_MODEL_IDS } from '../src/engine/index.ts';
import type { DealerModelId, GexResult, LineTrades } from '../src/engine/types.ts';
import { expiryLabel, parseBookSummaryResult, parseExpiryLabel, parseInstrumentsResult, parseOptionName, unwrapJsonRpc } from '../src/feeds/deribit/rest.ts';
import { parseTradesPage } from '../src/feeds/deribit/trades.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => string;
}

const USAGE = [
  'usage: gex snapshot --instruments FILE --summary FILE [--now MS] [--model classic|short|flow]',
  '         [--trades FILE] [--window-start MS] [--expiries 27DEC24,28MAR25|MS,...] [--currency BTC|ETH]',
  '         [--hours 0,1,8,24] [--vol-shifts -0.05,-0.02,-0.01,0,0.01,0.02,0.05] [--expiring] [--after-next-expiry] [--json]',
].join('\n');

class UsageError extends Error {}

/** 2000-01-01 .. 2200-01-01: the times a venue file can hold (and so --now, --window-start). */
const MIN_TS = 946_684_800_000;
const MAX_TS = 7_258_118_400_000;
const DAY_MS = 86_400_000;
/** Default lookback of the flow model (design: 7 days). */
const DEFAULT_WINDOW_MS = 7 * DAY_MS;
const DEFAULT_HOURS = [0, 1, 8, 24];
const DEFAULT_VOL_SHIFTS = [-0.05, -0.02, -0.01, 0, 0.01, 0.02, 0.05];
/** Hedge-flow moves: -10 % ... +10 % in 1 % steps (k/100 so 0.07 is exactly the literal 0.07). */
const MOVES = Array.from({ length: 21 }, (_, k) => (k - 10) / 100);
/** A spot further than this from the nearest expiry's forwards is refused, not charted. */
const MAX_SPOT_GAP = 0.2;
/** Input files larger than this are refused (a whole chain is a few MB; a week of trades ~100 MB). */
export const MAX_INPUT_BYTES = 512 * 1024 * 1024;

interface Args {
  instruments: string;
  summary: string;
  trades: string | null;
  nowMs: number | null;
  windowStartMs: number | null;
  model: DealerModelId;
  expiries: string[] | null;
  currency: Currency | null;
  hours: number[];
  volShifts: number[];
  includeExpiring: boolean;
  afterNextExpiry: boolean;
  json: boolean;
}

const epochMs = (flag: string, v: string): number => {
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`${flag} must be epoch milliseconds, got "${v}"`);
  if (n < MIN_TS || n > MAX_TS) throw new UsageError(`${flag} ${v} is outside 2000-2200`);
  return n;
};

/** A comma list of decimal numbers, each within [min, max]. */
function numberList(flag: string, v: string, min: number, max: number, what: string): number[] {
  const items = v.split(',').map((s) => s.trim());
  if (items.length === 0 || items.some((s) => s === '')) throw new UsageError(`${flag} must be a comma list of ${what}, got "${v}"`);
  if (items.length > 50) throw new UsageError(`${flag} has ${items.length} values; at most 50`);
  return items.map((s) => {
    const n = Number(s);
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d+)?$/i.test(s) || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${flag}: "${s}" is not ${what} within ${min} ... ${max}`);
    }
    return n + 0; // -0 -> 0
  });
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const rest = [...argv];
  if (rest.includes('--help') || rest.includes('-h')) return 'help';
  const cmd = rest.shift();
  if (cmd !== 'snapshot') throw new UsageError(cmd === undefined ? 'missing command (snapshot)' : `unknown command "${cmd}"`);
  const a: Partial<Args> = {};
  while (rest.length > 0) {
    const flag = rest.shift() as string;
    const value = () => {
      const v = rest.shift();
      if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--instruments':
        a.instruments = value();
        break;
      case '--summary':
        a.summary = value();
        break;
      case '--trades':
        a.trades = value();
        break;
      case '--now':
        a.nowMs = epochMs(flag, value());
        break;
      case '--window-start':
        a.windowStartMs = epochMs(flag, value());
        break;
      case '--model': {
        const v = value();
        if (!(DEALER_MODEL_IDS as readonly string[]).includes(v)) throw new UsageError(`--model must be ${DEALER_MODEL_IDS.join(', ')}; got "${v}"`);
        a.model = v as DealerModelId;
        break;
      }
      case '--expiries':
        a.expiries = value()
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0);
        if (a.expiries.length === 0) throw new UsageError('--expiries is empty');
        break;
      case '--currency': {
        const v = value().toUpperCase();
        if (v !== 'BTC' && v !== 'ETH') throw new UsageError(`--currency must be BTC or ETH, got "${v}"`);
        a.currency = v;
        break;
      }
      case '--hours':
        a.hours = numberList(flag, value(), 0, 24 * 366, 'hours ahead');
        break;
      case '--vol-shifts':
        a.volShifts = numberList(flag, value(), -1, 1, 'vol shifts as decimals (0.01 = one vol point)');
        break;
      case '--expiring':
        a.includeExpiring = true;
        break;
      case '--after-next-expiry':
        a.afterNextExpiry = true;
        break;
      case '--json':
        a.json = true;
        break;
      default:
        throw new UsageError(`unknown argument "${flag}"`);
    }
  }
  if (!a.instruments) throw new UsageError('--instruments FILE is required');
  if (!a.summary) throw new UsageError('--summary FILE is required');
  const model = a.model ?? 'classic';
  if (model === 'flow' && !a.trades) throw new UsageError('--model flow needs --trades FILE (public/get_last_trades_by_currency_and_time responses)');
  if (a.windowStartMs !== undefined && !a.trades) throw new UsageError('--window-start applies to --trades');
  return {
    instruments: a.instruments,
    summary: a.summary,
    trades: a.trades ?? null,
    nowMs: a.nowMs ?? null,
    windowStartMs: a.windowStartMs ?? null,
    model,
    expiries: a.expiries ?? null,
    currency: a.currency ?? null,
    hours: a.hours ?? DEFAULT_HOURS,
    volShifts: a.volShifts ?? DEFAULT_VOL_SHIFTS,
    includeExpiring: a.includeExpiring ?? false,
    afterNextExpiry: a.afterNextExpiry ?? false,
    json: a.json ?? false,
  };
}

/**
 * Read an input file: regular files only (a device or a FIFO would be read until memory runs out or
 * forever), at most MAX_INPUT_BYTES, UTF-8 with an optional byte-order mark.
 */
export function readInputFile(path: string, maxBytes = MAX_INPUT_BYTES): string {
  const refuse = (why: string) => Object.assign(new Error(why), { code: why });
  const kind = (st: Stats) => (st.isFile() ? null : st.isDirectory() ? 'EISDIR' : 'not a regular file');
  // stat before open: opening a FIFO with no writer would block
  const before = kind(statSync(path));
  if (before) throw refuse(before);
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const after = kind(st);
    if (after) throw refuse(after);
    if (st.size > maxBytes) throw refuse(`larger than ${Math.round(maxBytes / 1048576)} MB`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < st.size) {
      const n = readSync(fd, buf, off, st.size - off, off);
      if (n === 0) break;
      off += n;
    }
    const text = buf.toString('utf8', 0, off);
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  } finally {
    closeSync(fd);
  }
}

function readText(io: CliIo, path: string, what: string): string {
  try {
    return io.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`cannot read ${what} file "${path}"${code ? ` (${code})` : ''}`);
  }
}

/** Read a saved response: a JSON-RPC frame (result or error) or a bare result array. */
function readResult(io: CliIo, path: string, what: string): unknown {
  const text = readText(io, path, what);
  let json: unknown;
  try {
    json = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} file "${path}" is not valid JSON`);
  }
  if (Array.isArray(json)) return json;
  const r = unwrapJsonRpc(json);
  if (!r.ok) throw new UsageError(`${what} file "${path}": ${r.code !== null ? `Deribit error ${r.code}: ` : ''}${r.message}`);
  if (!Array.isArray(r.result)) throw new UsageError(`${what} file "${path}": result is not an array`);
  return r.result;
}

/**
 * The trades file: one public/get_last_trades_by_currency_and_time response a line (JSON-RPC frame
 * or bare `{trades, has_more}` result). A line that is not such a response makes the whole tape
 * suspect, so it is an error naming the line; bad trade rows are dropped and counted.
 */
function readTrades(io: CliIo, path: string, currency: Currency): { trades: TapeTrade[]; pages: number; dropped: Record<string, number> } {
  const text = readText(io, path, 'trades');
  const dropped: Record<string, number> = {};
  const trades: TapeTrade[] = [];
  let pages = 0;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (line === '') continue;
    let json: unknown;
    try {
      json = JSON.parse(line) as unknown;
    } catch {
      throw new UsageError(`trades file "${path}" line ${n + 1} is not valid JSON`);
    }
    let result = json;
    if (typeof json === 'object' && json !== null && ('result' in json || 'error' in json)) {
      const r = unwrapJsonRpc(json);
      if (!r.ok) throw new UsageError(`trades file "${path}" line ${n + 1}: ${r.code !== null ? `Deribit error ${r.code}: ` : ''}${r.message}`);
      result = r.result;
    }
    const page = parseTradesPage(result, currency, dropped);
    if (!page) throw new UsageError(`trades file "${path}" line ${n + 1} has no trades list`);
    trades.push(...page.trades);
    pages++;
  }
  return { trades, pages, dropped };
}

function inferCurrency(rows: unknown): Currency | null {
  const counts: Record<Currency, number> = { BTC: 0, ETH: 0 };
  if (Array.isArray(rows)) {
    for (const row of rows) {
      const name = (row as { instrument_name?: unknown } | null)?.instrument_name;
      const p = typeof name === 'string' ? parseOptionName(name) : null;
      if (p) counts[p.currency]++;
    }
  }
  if (counts.BTC === 0 && counts.ETH === 0) return null;
  return counts.BTC >= counts.ETH ? 'BTC' : 'ETH';
}

function parseExpiry(token: string): number | null {
  if (/^\d+$/.test(token)) return Number(token);
  return parseExpiryLabel(token.toUpperCase());
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * The spot must agree with the forwards it is used with: the median forward of the nearest
 * expiry not yet expired differs from spot only by that expiry's basis. One row's typo (x10) or an
 * absurd index (1e-300) would otherwise give a confident zero gamma for another market.
 */
function checkSpot(spot: number, store: ChainStore, nowMs: number, summaryPath: string, indexRow: string | null): void {
  const cols = store.columns();
  let nearest = Infinity;
  for (let i = 0; i < cols.length; i++) if (cols.expiryMs[i] > nowMs && cols.forward[i] > 0 && cols.expiryMs[i] < nearest) nearest = cols.expiryMs[i];
  if (nearest === Infinity) return; // no forward to compare with: nothing enters the sums anyway
  const fwds: number[] = [];
  for (let i = 0; i < cols.length; i++) if (cols.expiryMs[i] === nearest && cols.forward[i] > 0) fwds.push(cols.forward[i]);
  const fwd = median(fwds);
  const gap = spot / fwd - 1;
  if (Math.abs(gap) > MAX_SPOT_GAP) {
    const fmt = (v: number) => (v >= 1e-3 && v < 1e12 ? v.toLocaleString('en-US', { maximumSignificantDigits: 8 }) : v.toPrecision(6).replace(/\.?0+e/, 'e'));
    throw new UsageError(
      `summary file "${summaryPath}": spot ${fmt(spot)} (estimated_delivery_price of ${indexRow ?? 'the newest row'}) is ` +
        `${Math.abs(gap * 100).toFixed(1)} % ${gap < 0 ? 'below' : 'above'} the ${expiryLabel(nearest)} forwards (median ${fmt(fwd)}); ` +
        `refusing a spot inconsistent with the chain (limit ${MAX_SPOT_GAP * 100} %)`,
    );
  }
}

/** The JSON document printed by --json. */
export interface SnapshotOutput {
  spot: number;
  nowMs: number;
  model: DealerModelId;
  currency: Currency;
  /** Per strike: dollar gamma per 1 % (USD), and delta, vanna (per vol point), charm (per day) exposure (underlying units). */
  strikes: { strike: number; call: number; put: number; net: number; delta: number; vanna: number; charm: number }[];
  total: { call: number; put: number; net: number };
  exposures: { delta: number; vanna: number; charm: number };
  byExpiry: { expiry: string; expiryMs: number; net: number }[];
  zeroGamma: number | null;
  crossings: number[];
  flows: { move: number; units: number; usd: number; unitsGammaApprox: number }[];
  scenarios: { move: number; hours: number; volShift: number; units: number; usd: number }[];
  levels: { callWall: number | null; putWall: number | null; largestAbsGammaStrike: number | null; regime: string };
  expiring: { lines: number; included: boolean; grossGammaShare: number; pinStrike: number | null };
  nextExpiry: string | null;
  afterNextExpiry: string | null;
  positioning: {
    windowStartMs: number | null;
    trades: number;
    blockTrades: number;
    seenWhole: number;
    seenInPart: number;
    assumed: number;
  } | null;
  excluded: Record<string, number>;
  includedLines: number;
  dropped: {
    instruments: Record<string, number>;
    summary: Record<string, number>;
    unknownLines: number;
    trades?: Record<string, number> & Partial<TapeSkips>;
  };
}

function toOutput(r: GexResult, currency: Currency, dropped: SnapshotOutput['dropped']): SnapshotOutput {
  const sc = r.scenarios;
  const scenarios: SnapshotOutput['scenarios'] = [];
  if (sc) {
    sc.moves.forEach((move, m) =>
      sc.hours.forEach((hours, h) =>
        sc.volShifts.forEach((volShift, v) => {
          const k = (m * sc.hours.length + h) * sc.volShifts.length + v;
          scenarios.push({ move, hours, volShift, units: sc.units[k], usd: sc.usd[k] });
        }),
      ),
    );
  }
  return {
    spot: r.spot,
    nowMs: r.nowMs,
    model: r.model,
    currency,
    strikes: Array.from(r.strikes, (strike, k) => ({
      strike,
      call: r.callGex[k],
      put: r.putGex[k],
      net: r.netGex[k],
      delta: r.deltaExposure[k],
      vanna: r.vannaExposure[k],
      charm: r.charmExposure[k],
    })),
    total: { call: r.totalCallGex, put: r.totalPutGex, net: r.totalNetGex },
    exposures: { delta: r.totalDeltaExposure, vanna: r.totalVannaExposure, charm: r.totalCharmExposure },
    byExpiry: Array.from(r.expiries, (e, k) => ({ expiry: expiryLabel(e), expiryMs: e, net: r.netGexByExpiry[k] })),
    zeroGamma: r.zeroGammaLevel,
    crossings: r.zeroGammaCrossings,
    flows: Array.from(r.moves, (move, k) => ({ move, units: r.hedgeFlowUnits[k], usd: r.hedgeFlowUsd[k], unitsGammaApprox: r.hedgeFlowUnitsGammaApprox[k] })),
    scenarios,
    levels: { callWall: r.callWall, putWall: r.putWall, largestAbsGammaStrike: r.largestAbsGammaStrike, regime: r.regime },
    expiring: { ...r.expiring },
    nextExpiry: r.nextExpiryMs === null ? null : expiryLabel(r.nextExpiryMs),
    afterNextExpiry: r.droppedExpiryMs === null ? null : expiryLabel(r.droppedExpiryMs),
    positioning: r.positioning ? { ...r.positioning } : null,
    excluded: { ...r.excluded },
    includedLines: r.includedLines,
    dropped,
  };
}

const usd = (v: number) => (Math.round(v) + 0).toLocaleString('en-US'); // + 0 turns -0 into 0
const price = (v: number | null) => (v === null ? 'none' : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));
const units = (v: number) => (v + 0).toFixed(2);
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

function table(headers: string[], rows: string[][]): string {
  const w = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => x.padStart(w[c])).join('  ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function render(o: SnapshotOutput): string {
  const out: string[] = [];
  const c = o.currency;
  out.push(`gexdesk snapshot  ${c}  spot ${price(o.spot)}  now ${new Date(o.nowMs).toISOString()} (${o.nowMs})  model ${o.model}`);
  if (o.positioning) {
    const p = o.positioning;
    out.push(
      `flow model (an estimate): window from ${p.windowStartMs === null ? '?' : new Date(p.windowStartMs).toISOString()}, ${p.trades} trades (${p.blockTrades} block); ` +
        `dealer contracts seen whole ${pct(p.seenWhole)}, seen in part ${pct(p.seenInPart)}, assumed ${pct(p.assumed)}`,
    );
  }
  if (o.afterNextExpiry) out.push(`after the next expiry: ${o.afterNextExpiry} left out`);
  out.push(`dealer dollar gamma per 1 % move, USD; delta, vanna (per vol point) and charm (per day) exposure in ${c}`);
  out.push('');
  out.push(
    table(
      ['strike', 'call', 'put', 'net', `delta ${c}`, `vanna ${c}`, `charm ${c}`],
      o.strikes
        .map((s) => [price(s.strike), usd(s.call), usd(s.put), usd(s.net), units(s.delta), units(s.vanna), units(s.charm)])
        .concat([['total', usd(o.total.call), usd(o.total.put), usd(o.total.net), units(o.exposures.delta), units(o.exposures.vanna), units(o.exposures.charm)]]),
    ),
  );
  out.push('');
  out.push(`zero gamma: ${o.zeroGamma === null ? 'none within +-50 % of spot' : price(o.zeroGamma)}`);
  out.push(`crossings (nearest first): ${o.crossings.length === 0 ? 'none' : o.crossings.map(price).join(', ')}`);
  out.push('');
  out.push('hedge flow (+ = dealers buy)');
  out.push(
    table(
      ['move', `units ${c}`, 'USD', 'gamma approx units'],
      o.flows.map((f) => [`${(f.move * 100).toFixed(1)} %`, f.units.toFixed(2), usd(f.usd), f.unitsGammaApprox.toFixed(2)]),
    ),
  );
  const hours = [...new Set(o.scenarios.map((s) => s.hours))];
  const still = o.scenarios.filter((s) => s.volShift === 0);
  if (hours.length > 0 && still.length > 0) {
    out.push('');
    out.push(`hedge flow by horizon, vol unchanged, units ${c} (+ = dealers buy; every vol shift in --json)`);
    const byMove = new Map<number, Map<number, number>>();
    for (const s of still) byMove.set(s.move, (byMove.get(s.move) ?? new Map()).set(s.hours, s.units));
    out.push(
      table(
        ['move', ...hours.map((h) => `+${h} h`)],
        [...byMove.entries()].map(([m, row]) => [`${(m * 100).toFixed(1)} %`, ...hours.map((h) => units(row.get(h) ?? NaN))]),
      ),
    );
  }
  out.push('');
  out.push(
    `levels: call wall ${price(o.levels.callWall)}  put wall ${price(o.levels.putWall)}  largest |gamma| strike ${price(o.levels.largestAbsGammaStrike)}  regime ${o.levels.regime}`,
  );
  out.push(`next expiry in the sums: ${o.nextExpiry ?? 'none'}`);
  const e = o.expiring;
  if (e.lines > 0) {
    out.push(
      `expiring (under 1 h): ${e.lines} lines ${e.included ? 'included (--expiring)' : 'left out (--expiring includes them)'}, ` +
        `${pct(e.grossGammaShare)} of gross dollar gamma, pin ${price(e.pinStrike)}`,
    );
  }
  const ex = EXCLUSION_REASONS.filter((k) => o.excluded[k] > 0).map((k) => `${k} ${o.excluded[k]}`);
  out.push(`lines: ${o.includedLines} included; excluded: ${ex.length === 0 ? 'none' : ex.join(', ')}`);
  const dr = [
    ...Object.entries(o.dropped.instruments).map(([k, v]) => `instruments.${k} ${v}`),
    ...Object.entries(o.dropped.summary).map(([k, v]) => `summary.${k} ${v}`),
    ...(o.dropped.unknownLines > 0 ? [`summary rows for unlisted instruments ${o.dropped.unknownLines}`] : []),
    ...Object.entries(o.dropped.trades ?? {})
      .filter(([, v]) => v > 0)
      .map(([k, v]) => `trades.${k} ${v}`),
  ];
  out.push(`dropped while parsing: ${dr.length === 0 ? 'none' : dr.join(', ')}`);
  return out.join('\n') + '\n';
}

const reasons = (d: Record<string, number>) =>
  Object.entries(d)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** Run the CLI in-process. @returns the exit code (0 ok, 2 bad input or arguments). */
export function runCli(argv: readonly string[], io: CliIo): number {
  try {
    const args = parseArgs(argv);
    if (args === 'help') {
      io.stdout(USAGE + '\n');
      return 0;
    }
    const instRows = readResult(io, args.instruments, 'instruments');
    const sumRows = readResult(io, args.summary, 'summary');
    const currency = args.currency ?? inferCurrency(instRows);
    if (currency === null) throw new UsageError(`instruments file "${args.instruments}" lists no BTC or ETH options`);

    const inst = parseInstrumentsResult(instRows, currency);
    if (inst.instruments.length === 0) throw new UsageError(`instruments file "${args.instruments}" lists no ${currency} options`);
    const sum = parseBookSummaryResult(sumRows);
    if (sum.lines.length === 0) {
      const why = reasons(sum.dropped);
      throw new UsageError(`summary file "${args.summary}" has no usable option rows${why ? ` (dropped: ${why})` : ''}`);
    }
    if (sum.indexPrice === null) throw new UsageError(`summary file "${args.summary}" has no usable estimated_delivery_price (spot)`);
    const nowMs = args.nowMs ?? sum.newestTimestampMs;
    if (nowMs === null) throw new UsageError(`summary file "${args.summary}" has no valid rows; pass --now`);

    const store = new ChainStore('deribit', currency, inst.instruments.length);
    store.upsertInstruments(inst.instruments, true);
    const applied = store.applyOptions(sum.lines);
    checkSpot(sum.indexPrice, store, nowMs, args.summary, sum.indexRow);

    let expiries: Set<number> | null = null;
    if (args.expiries) {
      const listed = new Set(store.expiries().map((e) => e.expiryMs));
      expiries = new Set();
      for (const t of args.expiries) {
        const ms = parseExpiry(t);
        if (ms === null) throw new UsageError(`--expiries: "${t}" is neither a Deribit expiry (27DEC24) nor epoch ms`);
        if (!listed.has(ms)) throw new UsageError(`--expiries: ${t} is not an expiry of the listed instruments`);
        expiries.add(ms);
      }
    }

    let lineTrades: LineTrades | null = null;
    const dropped: SnapshotOutput['dropped'] = { instruments: inst.dropped, summary: sum.dropped, unknownLines: applied.unknown };
    if (args.trades) {
      const windowStartMs = args.windowStartMs ?? nowMs - DEFAULT_WINDOW_MS;
      if (windowStartMs > nowMs) throw new UsageError(`--window-start ${windowStartMs} is after the valuation time ${nowMs}`);
      const tape = readTrades(io, args.trades, currency);
      const agg = aggregateTape(tape.trades, (t) => store.indexOf(t.instrument), store.size, windowStartMs, nowMs);
      lineTrades = agg.lines;
      dropped.trades = { ...tape.dropped, ...agg.skipped };
    }

    const result = computeGex(store.columns(), {
      spot: sum.indexPrice,
      nowMs,
      model: args.model,
      expiries,
      moves: MOVES,
      trades: lineTrades,
      includeExpiring: args.includeExpiring,
      afterNextExpiry: args.afterNextExpiry,
      scenarios: { moves: MOVES, hours: args.hours, volShifts: args.volShifts },
    });
    if (result.regime === 'invalid') throw new UsageError(`the total dealer gamma is not a finite number (${result.totalNetGex}); the input holds values the engine cannot sum`);
    const output = toOutput(result, currency, dropped);
    io.stdout(args.json ? JSON.stringify(output, null, 2) + '\n' : render(output));
    return 0;
  } catch (e) {
    // One line, no stack trace; --help prints the usage.
    if (e instanceof UsageError) io.stderr(`gex: ${e.message} (gex --help for usage)\n`);
    else io.stderr(`gex: internal error: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  process.exitCode = runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    readFile: (p) => readInputFile(p),
  });
}
