/**
 * Records a Deribit session to the replay format (see replay.ts / README): connects to the upstream
 * (real Deribit by default), follows the client's channel plan for the given currencies, and writes
 * every frame of both directions as {"dir":"in"|"out","ts":ms,"frame":{...}} lines.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import WebSocket from 'ws';

export interface RecordOptions {
  upstream: string;
  file: string;
  currencies: ('BTC' | 'ETH')[];
  /** Stop after this many ms (default: until stop() / SIGINT). */
  durationMs?: number;
  heartbeatS?: number;
  summaryEveryMs?: number;
  instrumentsEveryMs?: number;
  log?: (line: string) => void;
}

export interface Recording {
  done: Promise<{ framesIn: number; framesOut: number; connects: number; skipped: number }>;
  stop(): void;
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function record(opts: RecordOptions): Recording {
  const log = opts.log ?? (() => undefined);
  const out: WriteStream = createWriteStream(opts.file, { flags: 'w' });
  const counts = { framesIn: 0, framesOut: 0, connects: 0, skipped: 0 };
  let stopping = false;
  let ws: WebSocket | undefined;
  let wake: (() => void) | undefined;
  const stopTimer = opts.durationMs !== undefined ? setTimeout(() => stop(), opts.durationMs) : undefined;

  function stop(): void {
    if (stopping) return;
    stopping = true;
    if (stopTimer) clearTimeout(stopTimer);
    ws?.close(1000, 'recording finished');
    wake?.();
  }

  const write = (line: string) => out.write(line + '\n');

  async function session(): Promise<'closed' | 'rateLimited'> {
    counts.connects++;
    const sock = new WebSocket(opts.upstream, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024, handshakeTimeout: 10_000 });
    ws = sock;
    write(JSON.stringify({ event: 'connect', url: opts.upstream, ts: Date.now() }));
    const pending = new Map<number, Pending>();
    let nextId = 1;
    let rateLimited = false;
    const timers: ReturnType<typeof setInterval>[] = [];

    const send = (method: string, params: Record<string, unknown>): Promise<unknown> => {
      const id = nextId++;
      const frame = { jsonrpc: '2.0', id, method, params };
      write(JSON.stringify({ dir: 'out', ts: Date.now(), frame }));
      counts.framesOut++;
      sock.send(JSON.stringify(frame));
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        setTimeout(() => {
          if (pending.delete(id)) reject(new Error(`${method}: no answer in 30 s`));
        }, 30_000).unref();
      });
    };

    const closed = new Promise<void>((resolve) => {
      sock.on('close', () => {
        for (const t of timers) clearInterval(t);
        for (const p of pending.values()) p.reject(new Error('connection closed'));
        pending.clear();
        resolve();
      });
      sock.on('error', (e) => log(`record: socket error: ${e.message}`));
    });

    sock.on('message', (data, isBinary) => {
      if (isBinary) {
        counts.skipped++;
        return;
      }
      const text = data.toString();
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(text);
        if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) throw new Error('not an object');
      } catch {
        counts.skipped++; // cannot be represented in the format: counted, not written
        return;
      }
      // the raw text is already JSON: splice it in instead of re-serialising a large frame
      write(`{"dir":"in","ts":${Date.now()},"frame":${text}}`);
      counts.framesIn++;
      if (msg.method === 'heartbeat' && (msg.params as Record<string, unknown> | undefined)?.type === 'test_request') {
        void send('public/test', {}).catch(() => undefined);
        return;
      }
      if (typeof msg.id === 'number' && pending.has(msg.id)) {
        const p = pending.get(msg.id)!;
        pending.delete(msg.id);
        if (msg.error) {
          const err = msg.error as { code?: number; message?: string };
          if (err.code === 10028) rateLimited = true;
          p.reject(new Error(`${err.code}: ${err.message}`));
        } else p.resolve(msg.result);
      }
    });

    try {
      await new Promise<void>((resolve, reject) => {
        sock.once('open', () => resolve());
        sock.once('error', reject);
        sock.once('close', () => reject(new Error('closed before open')));
      });
    } catch (e) {
      log(`record: cannot connect to ${opts.upstream}: ${(e as Error).message}`);
      return 'closed';
    }
    log(`record: connected to ${opts.upstream}`);
    const subscribed = new Set<string>();
    const subscribeSpaced = async (channels: string[]) => {
      const fresh = channels.filter((c) => !subscribed.has(c));
      // batches of 100, <= 3 calls per second (Deribit subscribe credits)
      for (let i = 0; i < fresh.length; i += 100) {
        const batch = fresh.slice(i, i + 100);
        const res = (await send('public/subscribe', { channels: batch })) as string[];
        for (const c of Array.isArray(res) ? res : []) subscribed.add(c);
        await sleep(400);
      }
    };
    const refreshInstruments = async () => {
      for (const c of opts.currencies) {
        const idx = `${c.toLowerCase()}_usd`;
        const ip = (await send('public/get_index_price', { index_name: idx })) as { index_price?: number };
        const list = (await send('public/get_instruments', { currency: c, kind: 'option', expired: false })) as Record<string, unknown>[];
        const spot = Number(ip?.index_price);
        const best = new Map<number, { name: string; d: number }>();
        for (const r of Array.isArray(list) ? list : []) {
          if (r.option_type !== 'call') continue;
          const e = Number(r.expiration_timestamp);
          const d = Math.abs(Number(r.strike) - spot);
          const b = best.get(e);
          if (!b || d < b.d) best.set(e, { name: String(r.instrument_name), d });
        }
        const chans = [
          `instrument.state.option.${c.toLowerCase()}`,
          `markprice.options.${idx}`,
          `deribit_price_index.${idx}`,
          `ticker.${c}-PERPETUAL.100ms`,
          `book.${c}-PERPETUAL.100ms`,
          ...[...best.values()].map((b) => `ticker.${b.name}.100ms`),
        ];
        await subscribeSpaced(chans);
      }
    };
    const summaries = async () => {
      for (const c of opts.currencies) await send('public/get_book_summary_by_currency', { currency: c, kind: 'option' });
    };
    try {
      await send('public/hello', { client_name: 'gexdesk-recorder', client_version: '0.1.0' });
      await send('public/set_heartbeat', { interval: opts.heartbeatS ?? 30 });
      await refreshInstruments();
      await summaries();
      timers.push(setInterval(() => void summaries().catch(() => undefined), opts.summaryEveryMs ?? 30_000));
      timers.push(setInterval(() => void refreshInstruments().catch(() => undefined), opts.instrumentsEveryMs ?? 600_000));
    } catch (e) {
      log(`record: setup failed: ${(e as Error).message}`);
      sock.close();
    }
    await closed;
    return rateLimited ? 'rateLimited' : 'closed';
  }

  const done = (async () => {
    let attempt = 0;
    while (!stopping) {
      const started = Date.now();
      const r = await session();
      if (stopping) break;
      if (Date.now() - started > 30_000) attempt = 0;
      attempt++;
      // full jitter backoff; 10028 ends the session on Deribit and asks for >= 10 s
      const delay = (r === 'rateLimited' ? 10_000 : 0) + Math.random() * Math.min(30_000, 1000 * 2 ** attempt);
      log(`record: disconnected; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, delay);
      });
    }
    await new Promise<void>((r) => out.end(() => r()));
    return counts;
  })();

  return { done, stop };
}
