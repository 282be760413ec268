import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseArgs } from './main.ts';

describe('CLI arguments', () => {
  it('parses the documented options', () => {
    const a = parseArgs(['--source', 'sim', '--seed', '7', '--speed', '60', '--port', '0', '--start', '2025-03-03T07:58:30Z']);
    expect(a).toMatchObject({ source: 'sim', seed: 7, speed: 60, port: 0, host: '127.0.0.1', startMs: Date.parse('2025-03-03T07:58:30Z') });
    expect(parseArgs(['--max-connections-per-ip', '64'])).toMatchObject({ maxConnectionsPerIp: 64 });
    expect(parseArgs(['--trades-per-minute', '10', '--customer-maker-share', '0', '--customer-to-customer-share', '0.25', '--pre-history-days', '9'])).toMatchObject({
      trades: { tradesPerMinute: 10, customerMakerShare: 0, customerToCustomerShare: 0.25, preHistoryDays: 9 },
    });
    expect(parseArgs(['--allow-host', 'deskbox', '--allow-host', 'deskbox.lan'])).toMatchObject({ allowHosts: ['deskbox', 'deskbox.lan'] });
    expect(parseArgs(['--source', 'record', '--file', '/tmp/x.jsonl'])).toMatchObject({ upstream: 'wss://www.deribit.com/ws/api/v2', venues: ['deribit'], currencies: ['BTC', 'ETH'] });
    expect(parseArgs(['--source', 'record', '--file', '/tmp/x.jsonl', '--venues', 'okx,Bybit,deribit', '--upstream-base', 'ws://127.0.0.1:8787'])).toMatchObject({
      venues: ['okx', 'bybit', 'deribit'],
      upstreamBase: 'ws://127.0.0.1:8787',
      upstream: 'ws://127.0.0.1:8787/deribit/ws/api/v2',
    });
  });
  it('rejects bad arguments with one line', () => {
    expect(parseArgs(['--source', 'nope'])).toMatch(/--source must be/);
    // a relay bound beyond loopback names the origins it serves
    expect(parseArgs(['--source', 'live', '--host', '0.0.0.0'])).toMatch(/needs --allow-origin/);
    expect(parseArgs(['--source', 'live', '--host', '0.0.0.0', '--allow-origin', 'http://desk:8787'])).toMatchObject({ source: 'live', host: '0.0.0.0' });
    expect(parseArgs(['--source', 'live', '--upstream-base', 'ws://127.0.0.1:8788', '--relay-grace', '5'])).toMatchObject({ source: 'live', upstreamBase: 'ws://127.0.0.1:8788', relayGraceS: 5 });
    expect(parseArgs(['--speed', '0'])).toMatch(/--speed/);
    expect(parseArgs(['--source', 'replay'])).toMatch(/needs --file/);
    expect(parseArgs(['--bogus'])).toMatch(/unknown option/);
    expect(parseArgs(['--max-connections-per-ip', '0'])).toMatch(/--max-connections-per-ip/);
    expect(parseArgs(['--max-connections-per-ip', '2.5'])).toMatch(/--max-connections-per-ip/);
    expect(parseArgs(['--venues', 'okx,kraken'])).toMatch(/--venues must be/);
    expect(parseArgs(['--upstream-base', 'http://x'])).toMatch(/--upstream-base/);
    expect(parseArgs(['--allow-host', 'evil;x'])).toMatch(/--allow-host/);
    expect(parseArgs(['--customer-maker-share', '1.5'])).toMatch(/--customer-maker-share/);
    expect(parseArgs(['--trades-per-minute', 'lots'])).toMatch(/--trades-per-minute/);
    expect(parseArgs(['--pre-history-days', '-1'])).toMatch(/--pre-history-days/);
    // past one machine: NATS with a role, for the live relay only
    expect(parseArgs(['--source', 'live', '--nats', 'nats://127.0.0.1:4222', '--role', 'edge'])).toMatchObject({ nats: 'nats://127.0.0.1:4222', role: 'edge', venues: ['deribit', 'okx', 'bybit', 'binance'] });
    expect(parseArgs(['--source', 'live', '--venues', 'deribit', '--nats', 'nats://nats.desk:4222', '--role', 'ingest'])).toMatchObject({ role: 'ingest', venues: ['deribit'] });
    expect(parseArgs(['--source', 'live', '--nats', 'nats://127.0.0.1:4222'])).toMatch(/--nats needs --role/);
    expect(parseArgs(['--source', 'live', '--role', 'edge'])).toMatch(/--role needs --nats/);
    expect(parseArgs(['--source', 'live', '--nats', 'http://x:1', '--role', 'edge'])).toMatch(/--nats must be/);
    expect(parseArgs(['--source', 'live', '--nats', 'nats://x:1', '--role', 'both'])).toMatch(/--role must be/);
    expect(parseArgs(['--source', 'sim', '--nats', 'nats://x:1', '--role', 'edge'])).toMatch(/for --source live/);
    // credentials before the host and TLS; a bad URL's credentials are not echoed back
    expect(parseArgs(['--source', 'live', '--nats', 'tls://desk:s3cret@nats.desk:4222', '--role', 'edge', '--nats-backlog-mb', '4'])).toMatchObject({ nats: 'tls://desk:s3cret@nats.desk:4222', natsBacklogMb: 4 });
    expect(parseArgs(['--source', 'live', '--nats', 'nats://desk:s3cret@nats.desk', '--role', 'edge'])).not.toMatch(/s3cret/);
    expect(parseArgs(['--source', 'live', '--nats', 'nats://x:1', '--role', 'edge', '--nats-ca', '/nonexistent.pem'])).toMatch(/--nats-ca: no such file/);
    expect(parseArgs(['--source', 'live', '--nats-backlog-mb', '4'])).toMatch(/are for --nats/);
  });
  it('exits 2 on bad arguments', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'server/main.ts', '--port', 'x'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});
