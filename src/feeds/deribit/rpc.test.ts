import { describe, expect, it } from 'vitest';
import type { FrameClass } from '../managed-socket.ts';
import { RecordingSink } from '../testing.ts';
import { MAX_PENDING_REQUESTS } from './limits.ts';
import { DeribitRpc, type Request } from './rpc.ts';

function rig() {
  const sink = new RecordingSink();
  const results: [Request, unknown][] = [];
  const restarts: [string, number][] = [];
  const rpc = new DeribitRpc({
    sink,
    random: () => 0.5,
    restart: (reason, minDelayMs) => restarts.push([reason, minDelayMs]),
    onResult: (request, result): FrameClass => {
      results.push([request, result]);
      return request.kind === 'summary' ? 'data' : 'other';
    },
  });
  const idOf = (text: string) => (JSON.parse(text) as { id: number }).id;
  return { sink, results, restarts, rpc, idOf };
}

describe('DeribitRpc', () => {
  it('routes each answer to its request once; an unknown id is nothing', () => {
    const { rpc, results, idOf } = rig();
    const text = rpc.message('public/subscribe', { channels: ['a'] }, { kind: 'subscribe', channels: ['a'] });
    expect(JSON.parse(text)).toEqual({ jsonrpc: '2.0', id: 1, method: 'public/subscribe', params: { channels: ['a'] } });
    const summary = idOf(rpc.message('public/get_book_summary_by_currency', {}, { kind: 'summary' }));
    expect(rpc.receive({ kind: 'response', id: summary, result: [] }, {})).toBe('data');
    expect(rpc.receive({ kind: 'response', id: summary, result: [] }, {})).toBe('other'); // answered already
    expect(rpc.receive({ kind: 'response', id: 1, result: ['a'] }, {})).toBe('other');
    expect(results).toEqual([[{ kind: 'summary' }, []], [{ kind: 'subscribe', channels: ['a'] }, ['a']]]);
  });

  it('knows while a list is awaited, also when the table drops its oldest entries', () => {
    const { rpc, idOf } = rig();
    expect(rpc.awaitingList).toBe(false);
    const instruments = idOf(rpc.message('public/get_instruments', {}, { kind: 'instruments' }));
    expect(rpc.awaitingList).toBe(true);
    rpc.receive({ kind: 'error', id: instruments, code: 11050, message: 'bad request' }, {});
    expect(rpc.awaitingList).toBe(false);
    rpc.message('public/get_instruments', {}, { kind: 'instruments' });
    // A server that never answers: the table stays bounded, the list request goes first.
    for (let i = 0; i < MAX_PENDING_REQUESTS; i++) rpc.message('public/test', {}, { kind: 'test' });
    expect(rpc.awaitingList).toBe(false);
    rpc.message('public/get_book_summary_by_currency', {}, { kind: 'summary' });
    rpc.reset();
    expect(rpc.awaitingList).toBe(false);
  });

  it('10028 ends the session for at least 10 s + jitter; other errors name the request and go on', () => {
    const { rpc, sink, restarts, idOf } = rig();
    const id = idOf(rpc.message('public/get_instruments', {}, { kind: 'instruments' }));
    rpc.receive({ kind: 'error', id, code: -32602, message: 'Invalid params' }, {});
    expect(restarts).toEqual([]);
    rpc.receive({ kind: 'error', id: null, code: 10028, message: 'too_many_requests' }, {});
    expect(restarts).toEqual([['rate limited by venue (10028 too_many_requests)', 12_500]]);
    expect(sink.ofKind('venueError')).toEqual([
      { kind: 'venueError', code: -32602, message: 'instruments: Invalid params', retryInMs: null },
      { kind: 'venueError', code: 10028, message: 'too_many_requests', retryInMs: 12_500 },
    ]);
  });

  it('a trade page settles its caller\'s promise, never onResult: its answer, its error, or why it will get none', () => {
    const { rpc, results, sink, idOf } = rig();
    const settled: string[] = [];
    const page = (name: string) => ({ kind: 'tradePage' as const, resolve: (r: unknown) => settled.push(`${name}: ${JSON.stringify(r)}`), reject: (e: Error) => settled.push(`${name}! ${e.message}`) });
    const a = idOf(rpc.message('public/get_last_trades_by_currency_and_time', {}, page('a')));
    expect(rpc.awaitingList).toBe(true); // a page may be a large frame
    const b = idOf(rpc.message('public/get_last_trades_by_currency_and_time', {}, page('b')));
    rpc.message('public/get_last_trades_by_currency_and_time', {}, page('c'));
    expect(rpc.receive({ kind: 'response', id: a, result: { trades: [], has_more: false } }, {})).toBe('other');
    rpc.receive({ kind: 'error', id: b, code: 10047, message: 'matching_engine_queue_full' }, {});
    // The oldest outstanding request makes room for new ones: a page there is told so.
    for (let i = 0; i < MAX_PENDING_REQUESTS - 1; i++) rpc.message('public/test', {}, { kind: 'test' });
    rpc.message('public/get_last_trades_by_currency_and_time', {}, page('d'));
    rpc.reset();
    expect(settled).toEqual([
      'a: {"trades":[],"has_more":false}',
      'b! Deribit error 10047: matching_engine_queue_full',
      'c! no answer (too many requests outstanding)',
      'd! connection closed before the answer',
    ]);
    expect(results).toEqual([]);
    expect(sink.ofKind('venueError')).toEqual([]);
  });

  it('the hello reply carries the venue clock of this connection (usOut, µs)', () => {
    const { rpc, sink, idOf } = rig();
    const hello = idOf(rpc.message('public/hello', {}, { kind: 'hello' }));
    rpc.receive({ kind: 'response', id: hello, result: {} }, { usOut: 1_626_993_723_632_002 });
    const test = idOf(rpc.message('public/test', {}, { kind: 'test' }));
    rpc.receive({ kind: 'response', id: test, result: {} }, { usOut: 1_700_000_000_000_000 });
    expect(sink.ofKind('serverTime')).toEqual([{ kind: 'serverTime', timestampMs: 1_626_993_723_632 }]);
  });
});
