/** What the Deribit protocol layer needs from a market source (simulator or replay). */
import type { DeribitHub, Session } from './hub.ts';

export type RpcError = { code: number; message: string; data?: unknown };
/** resultRaw: pre-serialised JSON (lets the badNumbers fault put literals like 1e400 on the wire). */
export type RpcReply = { result: unknown } | { resultRaw: string } | { error: RpcError };

export interface DeribitSource {
  readonly kind: 'sim' | 'replay';
  /** Venue clock in ms (simulated time in sim, recorded time in replay). */
  nowMs(): number;
  /** Answer a public method, or undefined when the source does not know it (-> -32601). */
  request(method: string, params: Record<string, unknown>, session: Session): RpcReply | undefined;
  /** Whether a channel name is one this source serves (subscribe result lists only those). */
  channelOk(channel: string): boolean;
  /** Called every 100 ms of wall time: push due notifications to the hub's sessions. */
  tick?(hub: DeribitHub, tickNo: number): void;
  /** Called when a session subscribes, e.g. to send a first book snapshot at once. */
  onSubscribed?(hub: DeribitHub, session: Session, channels: string[]): void;
  /** Called when a client connects. */
  onSessionOpen?(hub: DeribitHub, session: Session): void;
  close?(): void;
}

export const ERR = {
  parse: { code: -32700, message: 'Parse error' },
  invalidRequest: { code: -32600, message: 'Invalid Request' },
  methodNotFound: { code: -32601, message: 'Method not found' },
  internal: { code: -32603, message: 'Internal error' },
  invalidParams: (reason: string, param?: string): RpcError => ({ code: -32602, message: 'Invalid params', data: param ? { reason, param } : { reason } }),
  tooManyRequests: { code: 10028, message: 'too_many_requests' },
  unauthorized: { code: 13009, message: 'unauthorized' },
} as const;
