/**
 * Headless GEX on a saved Deribit snapshot (issue 2 "The CLI").
 *
 *   npm run gex -- snapshot --instruments FILE --summary FILE [--now MS] [--model classic|short]
 *                           [--expiries LIST] [--currency BTC|ETH] [--json]
 *
 * FILEs are Deribit's own responses saved verbatim: the JSON-RPC frames of public/get_instruments and
 * public/get_book_summary_by_currency (a bare result array is accepted too). Spot = the summary's
 * estimated_delivery_price (the index); valuation time = --now or the summary's newest creation_timestamp.
 * Bad files or arguments: one error line on stderr, exit code 2.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { ChainStore } from '../src/chain/store.ts';
import type { Currency } from '../src/chain/model.ts';
import { computeGex, EXCLUSION_REASONS } from '../src/engine/index.ts';
import type { DealerModelId, GexResult } from '../src/engine/types.ts';
import { expiryLabel, parseBookSummaryResult, parseExpiryLabel, parseInstrumentsResult, parseOptionName, unwrapJsonRpc } from '../src/feeds/deribit/rest.ts';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readFile: (path: string) => string;
}

const USAGE =
  'usage: gex snapshot --instruments FILE --summary FILE [--now MS] [--model classic|short] [--expiries 27DEC24,28MAR25|MS,...] [--currency BTC|ETH] [--json]';

class UsageError extends Error {}

interface Args {
  instruments: string;
  summary: string;
  nowMs: number | null;
  model: DealerModelId;
  expiries: string[] | null;
  currency: Currency | null;
  json: boolean;
}

function parseArgs(argv: readonly string[]): Args | 'help' {
  const rest = [...argv];
  if (rest.includes('--help') || rest.includes('-h')) return 'help';
  const cmd = rest.shift();
  if (cmd !== 'snapshot') throw new UsageError(cmd === undefined ? 'missing command (snapshot)' : `unknown command "${cmd}"`);
  const a: Partial<Args> & { json: boolean } = { json: false };
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
      case '--now': {
        const v = value();
        const n = Number(v);
        if (!/^\d+$/.test(v) || !Number.isSafeInteger(n)) throw new UsageError(`--now must be epoch milliseconds, got "${v}"`);
        a.nowMs = n;
        break;
      }
      case '--model': {
        const v = value();
        if (v !== 'classic' && v !== 'short') throw new UsageError(`--model must be classic or short, got "${v}"`);
        a.model = v;
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
      case '--json':
        a.json = true;
        break;
      default:
        throw new UsageError(`unknown argument "${flag}"`);
    }
  }
  if (!a.instruments) throw new UsageError('--instruments FILE is required');
  if (!a.summary) throw new UsageError('--summary FILE is required');
  return {
    instruments: a.instruments,
    summary: a.summary,
    nowMs: a.nowMs ?? null,
    model: a.model ?? 'classic',
    expiries: a.expiries ?? null,
    currency: a.currency ?? null,
    json: a.json,
  };
}

/** Read a saved response: a JSON-RPC frame (result or error) or a bare result array. */
function readResult(io: CliIo, path: string, what: string): unknown {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    const code = (e as { code?: string }).code;
    throw new UsageError(`cannot read ${what} file "${path}"${code ? ` (${code})` : ''}`);
  }
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

/** The JSON document printed by --json (keys as named in issue 2). */
export interface SnapshotOutput {
  spot: number;
  nowMs: number;
  model: DealerModelId;
  currency: Currency;
  strikes: { strike: number; call: number; put: number; net: number }[];
  total: { call: number; put: number; net: number };
  byExpiry: { expiry: string; expiryMs: number; net: number }[];
  zeroGamma: number | null;
  crossings: number[];
  flows: { move: number; units: number; usd: number; unitsGammaApprox: number }[];
  levels: { callWall: number | null; putWall: number | null; largestAbsGammaStrike: number | null; regime: string };
  excluded: Record<string, number>;
  includedLines: number;
  dropped: { instruments: Record<string, number>; summary: Record<string, number>; unknownLines: number };
}

function toOutput(r: GexResult, currency: Currency, dropped: SnapshotOutput['dropped']): SnapshotOutput {
  return {
    spot: r.spot,
    nowMs: r.nowMs,
    model: r.model,
    currency,
    strikes: Array.from(r.strikes, (strike, k) => ({ strike, call: r.callGex[k], put: r.putGex[k], net: r.netGex[k] })),
    total: { call: r.totalCallGex, put: r.totalPutGex, net: r.totalNetGex },
    byExpiry: Array.from(r.expiries, (e, k) => ({ expiry: expiryLabel(e), expiryMs: e, net: r.netGexByExpiry[k] })),
    zeroGamma: r.zeroGammaLevel,
    crossings: r.zeroGammaCrossings,
    flows: Array.from(r.moves, (move, k) => ({ move, units: r.hedgeFlowUnits[k], usd: r.hedgeFlowUsd[k], unitsGammaApprox: r.hedgeFlowUnitsGammaApprox[k] })),
    levels: { callWall: r.callWall, putWall: r.putWall, largestAbsGammaStrike: r.largestAbsGammaStrike, regime: r.regime },
    excluded: { ...r.excluded },
    includedLines: r.includedLines,
    dropped,
  };
}

const usd = (v: number) => (Math.round(v) + 0).toLocaleString('en-US'); // + 0 turns -0 into 0
const price = (v: number | null) => (v === null ? 'none' : v.toLocaleString('en-US', { maximumFractionDigits: 2 }));

function table(headers: string[], rows: string[][]): string {
  const w = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((x, c) => x.padStart(w[c])).join('  ');
  return [line(headers), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

function render(o: SnapshotOutput): string {
  const out: string[] = [];
  out.push(`gexdesk snapshot  ${o.currency}  spot ${price(o.spot)}  now ${new Date(o.nowMs).toISOString()} (${o.nowMs})  model ${o.model}`);
  out.push('dealer dollar gamma per 1 % move, USD');
  out.push('');
  out.push(
    table(
      ['strike', 'call', 'put', 'net'],
      o.strikes.map((s) => [price(s.strike), usd(s.call), usd(s.put), usd(s.net)]).concat([['total', usd(o.total.call), usd(o.total.put), usd(o.total.net)]]),
    ),
  );
  out.push('');
  out.push(`zero gamma: ${o.zeroGamma === null ? 'none within +-50 % of spot' : price(o.zeroGamma)}`);
  out.push(`crossings (nearest first): ${o.crossings.length === 0 ? 'none' : o.crossings.map(price).join(', ')}`);
  out.push('');
  out.push('hedge flow (+ = dealers buy)');
  out.push(
    table(
      ['move', `units ${o.currency}`, 'USD', 'gamma approx units'],
      o.flows.map((f) => [`${(f.move * 100).toFixed(1)} %`, f.units.toFixed(2), usd(f.usd), f.unitsGammaApprox.toFixed(2)]),
    ),
  );
  out.push('');
  out.push(
    `levels: call wall ${price(o.levels.callWall)}  put wall ${price(o.levels.putWall)}  largest |gamma| strike ${price(o.levels.largestAbsGammaStrike)}  regime ${o.levels.regime}`,
  );
  const ex = EXCLUSION_REASONS.filter((k) => o.excluded[k] > 0).map((k) => `${k} ${o.excluded[k]}`);
  out.push(`lines: ${o.includedLines} included; excluded: ${ex.length === 0 ? 'none' : ex.join(', ')}`);
  const dr = [
    ...Object.entries(o.dropped.instruments).map(([k, v]) => `instruments.${k} ${v}`),
    ...Object.entries(o.dropped.summary).map(([k, v]) => `summary.${k} ${v}`),
    ...(o.dropped.unknownLines > 0 ? [`summary rows for unlisted instruments ${o.dropped.unknownLines}`] : []),
  ];
  out.push(`dropped while parsing: ${dr.length === 0 ? 'none' : dr.join(', ')}`);
  return out.join('\n') + '\n';
}

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
    if (sum.indexPrice === null) throw new UsageError(`summary file "${args.summary}" has no usable estimated_delivery_price (spot)`);
    const nowMs = args.nowMs ?? sum.newestTimestampMs;
    if (nowMs === null) throw new UsageError(`summary file "${args.summary}" has no valid rows; pass --now`);

    const store = new ChainStore('deribit', currency, inst.instruments.length);
    store.upsertInstruments(inst.instruments, true);
    const applied = store.applyOptions(sum.lines);

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

    const result = computeGex(store.columns(), { spot: sum.indexPrice, nowMs, model: args.model, expiries });
    const output = toOutput(result, currency, { instruments: inst.dropped, summary: sum.dropped, unknownLines: applied.unknown });
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
    readFile: (p) => readFileSync(p, 'utf8'),
  });
}
