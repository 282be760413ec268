import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { record } from './record.ts';
import { parseRecording } from './replay.ts';
import { startServer, type RunningServer } from './server.ts';
import { TestClient, sleep } from './test-client.ts';
import { sampleDir } from '../test/samples.ts';

const CAPTURE = sampleDir('deribit') + 'ws-capture-2021-07-22.jsonl';
const servers: RunningServer[] = [];
const clients: TestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
});

describe('replay', () => {
  it('delivers the recorded ticker frames of the real 2021 capture, in order, as .100ms channels', async () => {
    const srv = await startServer({ source: 'replay', file: CAPTURE, speed: 20, port: 0, loop: false });
    servers.push(srv);
    const c = await TestClient.connect(srv.url.replace('http', 'ws') + '/deribit/ws/api/v2');
    clients.push(c);
    const { frames } = parseRecording(readFileSync(CAPTURE, 'utf8'));
    const recorded = frames.filter((f) => f.dir === 'in' && f.frame.method === 'subscription' && String((f.frame.params as { channel: string }).channel).startsWith('ticker.'));
    expect(recorded.length).toBe(89);
    await sleep(2500); // ~31 s of recording at 20x
    const got = c.msgs.filter((m) => m.params?.channel?.startsWith('ticker.'));
    expect(got.length).toBe(89);
    for (let i = 0; i < got.length; i++) {
      const rp = recorded[i].frame.params as { channel: string; data: unknown };
      expect(got[i].params!.channel).toBe(rp.channel.replace(/\.raw$/, '.100ms'));
      expect(got[i].params!.data).toEqual(rp.data);
    }
    // requests answered from the recording's names and tickers
    const instr = (await c.call('public/get_instruments', { currency: 'BTC', kind: 'option', expired: false })).result as { instrument_name: string; strike: number; expiration_timestamp: number }[];
    expect(instr.find((i) => i.instrument_name === 'BTC-24SEP21-34000-P')).toMatchObject({ strike: 34000, expiration_timestamp: Date.parse('2021-09-24T08:00:00Z') });
    const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'ETH', kind: 'option' })).result as Record<string, unknown>[];
    expect(sum.find((r) => r.instrument_name === 'ETH-30JUL21-2800-C')).toMatchObject({ underlying_price: expect.any(Number), mark_iv: expect.any(Number) });
    expect((await c.call('public/get_time')).result).toBeLessThan(Date.parse('2021-07-23T00:00:00Z'));
    expect((await c.call('public/nope')).error?.code).toBe(-32601);
    const info = (await (await fetch(srv.url + '/__gexdesk/info')).json()) as { source: string; replay: { badLines: number } };
    expect(info.source).toBe('replay');
    expect(info.replay.badLines).toBe(0);
  });

  it('counts and skips bad lines, never crashes', () => {
    const good = '{"dir":"in","ts":1700000000000,"frame":{"jsonrpc":"2.0","method":"subscription","params":{"channel":"deribit_price_index.btc_usd","data":{"index_name":"btc_usd","price":1,"timestamp":1700000000000}}}}';
    const { frames, report } = parseRecording([good, '{bad', '[]', '{"dir":"up","ts":1,"frame":{}}', '{"dir":"in","ts":"x","frame":{}}', '{"event":"connect"}', ''].join('\n'));
    expect(frames.length).toBe(1);
    expect(report.badLines).toBe(4);
    expect(report.metaLines).toBe(1);
    expect(report.badReasons).toEqual({ 'invalid JSON': 1, 'not an object': 1, 'bad dir': 1, 'bad ts': 1 });
  });
});

describe('record -> replay round trip', () => {
  it('records the channel plan from the simulator and replays it', async () => {
    const sim = await startServer({ source: 'sim', seed: 5, port: 0, startMs: Date.parse('2025-03-03T12:00:00Z') });
    servers.push(sim);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'gexdesk-rec-')), 'rec.jsonl');
    const rec = record({ upstream: sim.url.replace('http', 'ws') + '/deribit/ws/api/v2', file, currencies: ['BTC'], durationMs: 2500, heartbeatS: 1 });
    const counts = await rec.done;
    expect(counts.framesIn).toBeGreaterThan(20);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const subs = lines.filter((l) => l.dir === 'out' && l.frame.method === 'public/subscribe').flatMap((l) => l.frame.params.channels as string[]);
    expect(subs).toEqual(expect.arrayContaining(['markprice.options.btc_usd', 'deribit_price_index.btc_usd', 'ticker.BTC-PERPETUAL.100ms', 'book.BTC-PERPETUAL.100ms', 'instrument.state.option.btc']));
    expect(subs.filter((s) => /^ticker\.BTC-\d/.test(s)).length).toBe(sim.sim!.listedExpiries().length); // one call per expiry
    expect(lines.some((l) => l.dir === 'in' && l.frame.method === 'heartbeat')).toBe(true);
    expect(lines.some((l) => l.dir === 'out' && l.frame.method === 'public/test')).toBe(true);
    const recordedIdx = lines.filter((l) => l.dir === 'in' && l.frame.params?.channel === 'deribit_price_index.btc_usd');

    const rep = await startServer({ source: 'replay', file, speed: 4, port: 0, loop: false });
    servers.push(rep);
    expect(rep.replay!.report.badLines).toBe(0);
    const c = await TestClient.connect(rep.url.replace('http', 'ws') + '/deribit/ws/api/v2');
    clients.push(c);
    const sum = (await c.call('public/get_book_summary_by_currency', { currency: 'BTC', kind: 'option' })).result as unknown[];
    const recordedSum = lines.find((l) => l.dir === 'in' && Array.isArray(l.frame.result) && l.frame.result[0]?.mark_iv !== undefined);
    expect(sum).toEqual(recordedSum.frame.result);
    await sleep(1200);
    const idx = c.notes('deribit_price_index.btc_usd').map((m) => m.params!.data);
    expect(idx.length).toBe(recordedIdx.length);
    expect(idx).toEqual(recordedIdx.map((l) => l.frame.params.data));
  });
});
