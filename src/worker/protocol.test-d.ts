/**
 * Type tests of the worker boundary (checked by `npm run typecheck`, not run): the message unions are
 * closed, no raw venue data crosses, and each request kind is answered with its own type.
 */
import { expectTypeOf } from 'vitest';
import type { OptionLineUpdate, TapeTrade } from '../chain/model.ts';
import type {
  ExpiryInfo, FromWorker, ResultMessage, ToWorker, ViewSelection, WorkerRequest, WorkerRequests, WorkerResponse,
} from './protocol.ts';

// Every message a side can receive, and nothing else: a new one must be handled at both ends.
expectTypeOf<FromWorker['type']>().toEqualTypeOf<'hello' | 'result' | 'health' | 'response' | 'expiryFallback' | 'pong' | 'notice' | 'tape'>();
expectTypeOf<ToWorker['type']>().toEqualTypeOf<'hello' | 'select' | 'ack' | 'request' | 'ping' | 'history'>();

// Results, not ticks: no message carries line updates or trades (design: "Architecture").
type Fields<T> = T extends unknown ? keyof T : never;
expectTypeOf<Extract<Fields<FromWorker>, 'updates' | 'lines' | 'trades' | 'frames'>>().toBeNever();
expectTypeOf<Extract<FromWorker[keyof FromWorker], OptionLineUpdate[] | TapeTrade[]>>().toBeNever();

// A request names its kind and its arguments; the answer's type follows from the kind.
expectTypeOf<Extract<WorkerRequest, { kind: 'expiries' }>>().toEqualTypeOf<{ kind: 'expiries' } & WorkerRequests['expiries']['args']>();
expectTypeOf<Extract<WorkerResponse, { ok: true; kind: 'expiries' }>['data']>().toEqualTypeOf<ExpiryInfo[]>();
expectTypeOf<Extract<WorkerResponse, { ok: true; kind: 'snapshot' }>['data']>().toEqualTypeOf<ResultMessage | null>();
// @ts-expect-error an expiries request without its venues is not a request
export const missingArgs: WorkerRequest = { kind: 'expiries', currency: 'BTC' };
// @ts-expect-error an unknown kind is not a request
export const unknownKind: WorkerRequest = { kind: 'history' };

// A result carries the selection it was computed for (the page drops results of another view by it).
expectTypeOf<ResultMessage['selection']>().toEqualTypeOf<ViewSelection>();
