/**
 * CLI of the local venue server:
 *   node --import tsx server/main.ts --source sim|replay|record|live [--file F] [--seed N] [--speed X]
 *     [--port N] [--host H] [--serve DIR] [--start ISO|MS] [--no-loop] [--allow-origin URL] [--allow-host NAME] [--max-connections-per-ip N]
 *     [--upstream URL] [--upstream-base ws://HOST:PORT] [--venues deribit,okx,bybit,binance]
 *     [--currencies BTC,ETH] [--duration S] [--okx-books current|legacy] [--relay-grace S]
 *     [--trades-per-minute N] [--customer-maker-share X] [--customer-to-customer-share X] [--pre-history-days D]
 *     [--nats nats://HOST:PORT|tls://HOST:PORT --role ingest|edge [--nats-ca FILE] [--nats-backlog-mb N]]  (live: --venues also picks the venues relayed, default all)
 * Bad arguments: one line on stderr, exit code 2.
 */
import { existsSync, statSync } from 'node:fs';
import { startServer } from './server.ts';
import { record } from './replay/record.ts';
import { VENUE_IDS, isVenueId, type VenueId } from '../src/shared/venues.ts';
import { DEFAULT_TRADE_KNOBS, parseTradeKnobs, type TradeKnobs } from './sim/trade-book.ts';
import { natsUrlForLog, type NatsRole } from './relay/nats.ts';

export interface CliArgs {
  source: 'sim' | 'replay' | 'record' | 'live';
  file?: string;
  seed: number;
  speed: number;
  port: number;
  host: string;
  serve?: string;
  startMs?: number;
  loop: boolean;
  allowOrigins: string[];
  /** Host names a request may carry besides IP literals, localhost and --host (a desk reaching the server by the machine's name). */
  allowHosts: string[];
  maxConnectionsPerIp?: number;
  /** Sockets in all (default 250; a desk relay of 200 screens on four venues needs ~350). */
  maxConnections?: number;
  upstream: string;
  /** Record every venue from a local gexdesk server (its venue paths) instead of live. */
  upstreamBase?: string;
  /** Venues to record (default deribit). */
  venues: VenueId[];
  currencies: ('BTC' | 'ETH')[];
  durationS?: number;
  /** OKX `books` as the venue serves them since 2026 (sim default) or before; replay: by the recording unless set. */
  okxBooks?: 'current' | 'legacy';
  /** Live relay: seconds an upstream currency stays subscribed after its last screen left. */
  relayGraceS?: number;
  /** The simulator's trading knobs given on the command line. */
  trades: Partial<TradeKnobs>;
  /** Live relay past one machine: the NATS server and this process's part. */
  nats?: string;
  role?: NatsRole;
  natsCa?: string;
  natsBacklogMb?: number;
}

/** Trading knobs: flag -> knob (checked by parseTradeKnobs). */
const TRADE_FLAGS: ReadonlyMap<string, keyof TradeKnobs> = new Map([
  ['--trades-per-minute', 'tradesPerMinute'],
  ['--customer-maker-share', 'customerMakerShare'],
  ['--customer-to-customer-share', 'customerToCustomerShare'],
  ['--pre-history-days', 'preHistoryDays'],
]);

const FLAGS = new Set([...TRADE_FLAGS.keys(), '--source', '--file', '--seed', '--speed', '--port', '--host', '--serve', '--start', '--upstream', '--currencies', '--duration', '--allow-origin', '--allow-host', '--upstream-base', '--venues', '--max-connections-per-ip', '--max-connections', '--okx-books', '--relay-grace', '--nats', '--role', '--nats-ca', '--nats-backlog-mb']);

/** Parse argv; returns an error line instead of throwing. */
export function parseArgs(argv: string[]): CliArgs | string {
  const a: CliArgs = { source: 'sim', seed: 42, speed: 1, port: 8787, host: '127.0.0.1', loop: true, allowOrigins: [], allowHosts: [], upstream: 'wss://www.deribit.com/ws/api/v2', venues: ['deribit'], currencies: ['BTC', 'ETH'], trades: {} };
  let sourceSet = false;
  let upstreamSet = false;
  let venuesSet = false;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--no-loop') {
      a.loop = false;
      continue;
    }
    if (k === '--help' || k === '-h') return `usage: server/main.ts --source sim|replay|record|live [--file F] [--seed N] [--speed X] [--port N] [--host H] [--serve DIR] [--start ISO|MS] [--no-loop] [--allow-origin URL] [--allow-host NAME] [--max-connections-per-ip N] [--max-connections N] [--upstream URL] [--upstream-base ws://HOST:PORT] [--venues ${VENUE_IDS.join(',')}] [--currencies BTC,ETH] [--duration S] [--okx-books current|legacy] [--relay-grace S] [--trades-per-minute N] [--customer-maker-share X] [--customer-to-customer-share X] [--pre-history-days D] [--nats nats://[USER:PASS@]HOST:PORT|tls://… --role ingest|edge [--nats-ca FILE] [--nats-backlog-mb N]]`;
    if (!FLAGS.has(k)) return `unknown option: ${k}`;
    const v = argv[++i];
    if (v === undefined || v.startsWith('--')) return `option ${k} needs a value`;
    const knob = TRADE_FLAGS.get(k);
    if (knob) {
      const r = parseTradeKnobs({ [knob]: v.trim() === '' ? NaN : v }, DEFAULT_TRADE_KNOBS);
      if (typeof r === 'string') return `${k}: ${r} (got ${v})`;
      a.trades[knob] = r[knob];
      continue;
    }
    switch (k) {
      case '--source':
        if (v !== 'sim' && v !== 'replay' && v !== 'record' && v !== 'live') return `--source must be sim, replay, record or live (got ${v})`;
        a.source = v;
        sourceSet = true;
        break;
      case '--file':
        a.file = v;
        break;
      case '--seed':
        if (!/^\d{1,10}$/.test(v) || Number(v) > 4294967295) return `--seed must be an integer 0..4294967295 (got ${v})`;
        a.seed = Number(v);
        break;
      case '--speed': {
        const s = Number(v);
        if (!Number.isFinite(s) || s < 1 || s > 10_000) return `--speed must be a number from 1 to 10000 (got ${v})`;
        a.speed = s;
        break;
      }
      case '--port': {
        const p = Number(v);
        if (!Number.isInteger(p) || p < 0 || p > 65535) return `--port must be 0..65535 (got ${v})`;
        a.port = p;
        break;
      }
      case '--host':
        if (!/^[A-Za-z0-9.:-]{1,100}$/.test(v)) return `--host is not a host name or address (got ${v})`;
        a.host = v;
        break;
      case '--serve':
        if (!existsSync(v) || !statSync(v).isDirectory()) return `--serve: no such directory: ${v}`;
        a.serve = v;
        break;
      case '--start': {
        const t = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
        if (!Number.isFinite(t) || t < 0) return `--start must be an ISO date or epoch ms (got ${v})`;
        a.startMs = t;
        break;
      }
      case '--upstream':
        if (!/^wss?:\/\//.test(v)) return `--upstream must be a ws:// or wss:// URL (got ${v})`;
        a.upstream = v;
        upstreamSet = true;
        break;
      case '--upstream-base':
        if (!/^wss?:\/\/[^/]+\/?$/.test(v)) return `--upstream-base must be ws://HOST:PORT (got ${v})`;
        a.upstreamBase = v.replace(/\/$/, '');
        break;
      case '--venues': {
        const list = v.split(',').map((s) => s.trim().toLowerCase());
        if (list.length === 0 || !list.every(isVenueId)) return `--venues must be a list of ${VENUE_IDS.join(', ')} (got ${v})`;
        a.venues = [...new Set(list)];
        venuesSet = true;
        break;
      }
      case '--currencies': {
        const list = v.split(',').map((s) => s.trim().toUpperCase());
        if (list.length === 0 || list.some((c) => c !== 'BTC' && c !== 'ETH')) return `--currencies must be BTC, ETH or BTC,ETH (got ${v})`;
        a.currencies = [...new Set(list)] as ('BTC' | 'ETH')[];
        break;
      }
      case '--duration': {
        const d = Number(v);
        if (!Number.isFinite(d) || d <= 0) return `--duration must be a positive number of seconds (got ${v})`;
        a.durationS = d;
        break;
      }
      case '--allow-origin':
        a.allowOrigins.push(v);
        break;
      case '--allow-host':
        if (!/^[A-Za-z0-9.-]{1,253}$/.test(v)) return `--allow-host is not a host name (got ${v})`;
        a.allowHosts.push(v);
        break;
      case '--max-connections': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 5_000) return `--max-connections must be a whole number from 1 to 5000 (got ${v})`;
        a.maxConnections = n;
        break;
      }
      case '--max-connections-per-ip': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1 || n > 5_000) return `--max-connections-per-ip must be a whole number from 1 to 5000 (got ${v})`;
        a.maxConnectionsPerIp = n;
        break;
      }
      case '--relay-grace': {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0 || n > 3_600) return `--relay-grace must be 0..3600 seconds (got ${v})`;
        a.relayGraceS = n;
        break;
      }
      case '--nats':
        // credentials may come before the host (USER:PASS@ or TOKEN@); never echoed back
        if (!/^(nats|tls):\/\/([^@/\s]+@)?[A-Za-z0-9.[\]:-]+:\d{1,5}$/.test(v)) return `--nats must be nats://HOST:PORT or tls://HOST:PORT, with USER:PASS@ or TOKEN@ before the host if the server asks (got ${natsUrlForLog(v)})`;
        a.nats = v;
        break;
      case '--nats-ca':
        if (!existsSync(v)) return `--nats-ca: no such file: ${v}`;
        a.natsCa = v;
        break;
      case '--nats-backlog-mb': {
        const n = Number(v);
        if (!Number.isFinite(n) || n < 0.01 || n > 4_096) return `--nats-backlog-mb must be 0.01..4096 (got ${v})`;
        a.natsBacklogMb = n;
        break;
      }
      case '--role':
        if (v !== 'ingest' && v !== 'edge') return `--role must be ingest or edge (got ${v})`;
        a.role = v;
        break;
      case '--okx-books':
        if (v !== 'current' && v !== 'legacy') return `--okx-books must be current or legacy (got ${v})`;
        a.okxBooks = v;
        break;
    }
  }
  if (!sourceSet) a.source = 'sim';
  if ((a.nats || a.role) && a.source !== 'live') return '--nats and --role are for --source live';
  if (a.nats && !a.role) return '--nats needs --role ingest (holds the venues) or edge (serves screens)';
  if (a.role && !a.nats) return '--role needs --nats nats://HOST:PORT';
  if ((a.natsCa || a.natsBacklogMb !== undefined) && !a.nats) return '--nats-ca and --nats-backlog-mb are for --nats';
  if (a.source === 'live' && !venuesSet) a.venues = [...VENUE_IDS];
  if (a.source === 'replay') {
    if (!a.file) return '--source replay needs --file RECORDING.jsonl';
    if (!existsSync(a.file)) return `--file: no such file: ${a.file}`;
  }
  if (a.source === 'record' && !a.file) return '--source record needs --file OUT.jsonl';
  // a desk relay reached from other machines: only the origins it is told about may open its sockets
  if (a.source === 'live' && !isLoopback(a.host) && a.allowOrigins.length === 0) return `--source live on ${a.host} needs --allow-origin URL (the page's origin screens load it from)`;
  // a local base records Deribit from that server too, unless --upstream says otherwise
  if (a.upstreamBase && !upstreamSet) a.upstream = `${a.upstreamBase}/deribit/ws/api/v2`;
  return a;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    process.stderr.write(`gexdesk server: ${args}\n`);
    process.exit(2);
  }
  const log = (l: string) => process.stderr.write(l + '\n');
  if (args.source === 'record') {
    const rec = record({ urls: { deribit: args.upstream }, upstreamBase: args.upstreamBase, venues: args.venues, file: args.file!, currencies: args.currencies, durationMs: args.durationS !== undefined ? args.durationS * 1000 : undefined, log });
    process.stdout.write(`gexdesk recorder: ${args.venues.join(',')} from ${args.upstreamBase ?? 'live'} -> ${args.file} (${args.currencies.join(',')})\n`);
    process.once('SIGINT', () => rec.stop());
    process.once('SIGTERM', () => rec.stop());
    const c = await rec.done;
    process.stdout.write(`gexdesk recorder: wrote ${c.framesIn} received and ${c.framesOut} sent frames and ${c.rest} REST answer(s) (${c.connects} connection(s), ${c.skipped} unrecordable frame(s) skipped)\n`);
    return;
  }
  let srv;
  try {
    srv = await startServer({
      source: args.source,
      file: args.file,
      seed: args.seed,
      speed: args.speed,
      port: args.port,
      host: args.host,
      serveDir: args.serve,
      startMs: args.startMs,
      loop: args.loop,
      allowedOrigins: args.allowOrigins,
      allowedHosts: args.allowHosts,
      maxConnectionsPerIp: args.maxConnectionsPerIp,
      maxConnections: args.maxConnections,
      okxBooks: args.okxBooks,
      relay: args.source === 'live' ? { upstreamBase: args.upstreamBase, graceMs: args.relayGraceS !== undefined ? args.relayGraceS * 1000 : undefined, venues: args.venues } : undefined,
      trades: args.trades,
      nats: args.nats && args.role ? { url: args.nats, role: args.role, caFile: args.natsCa, backlogBytes: args.natsBacklogMb !== undefined ? args.natsBacklogMb * 1024 * 1024 : undefined } : undefined,
      log,
    });
  } catch (e) {
    process.stderr.write(`gexdesk server: ${(e as Error).message}\n`);
    process.exit((e as NodeJS.ErrnoException).code === 'EADDRINUSE' ? 1 : 2);
  }
  process.stdout.write(`gexdesk server listening on ${srv.url} (source=${args.source}${args.source === 'live' ? `, relaying ${args.upstreamBase ?? 'the live venues'}` : ''})\n`);
  const shutdown = () => void srv.close().then(() => process.exit(0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (process.argv[1] && /server[\\/]main\.ts$/.test(process.argv[1])) void main();
