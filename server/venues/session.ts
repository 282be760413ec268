/**
 * One client's session on a venue path of the local server (every venue's sessions are this class):
 * the shared ClientSocket (bounded send buffer, request budget, channel cap) plus the data-path fault
 * switches applied per frame (silent, heartbeatOnly, flood, dup, reorder) and the protocol's per-topic
 * state. The hub (./hub.ts) owns the sessions; the venue protocol reads and answers their frames.
 */
import type { WebSocket } from 'ws';
import { ClientSocket } from './client-socket.ts';
import type { VenueHub } from './hub.ts';

export class VenueSession extends ClientSocket {
  /** Per-topic state owned by the protocol (e.g. the book last sent, for diffs). */
  readonly state = new Map<string, unknown>();
  readonly openedAt = Date.now();
  lastInboundAt = Date.now();
  gapPending = false;
  /** Protocol scratch (e.g. OKX's subscribe requests this hour). */
  counters: Record<string, number> = {};
  private dataCount = 0;
  private held = new Map<string, string>();

  constructor(
    ws: WebSocket,
    readonly hub: VenueHub,
    readonly id: number,
    readonly path: string,
    readonly ip: string,
  ) {
    super(ws, hub.limits);
  }

  get connId(): string {
    return `${this.hub.venue}-${this.id.toString(16).padStart(8, '0')}`;
  }

  /** A reply to a request (ack, error, pong): dropped only by `silent`. */
  reply(text: string): void {
    if (this.hub.fault('silent')) return;
    this.sendRaw(text, true);
  }

  /**
   * A data frame of a topic with the data-path faults applied. `ordered` topics (books with sequence
   * ids) are exempt from dup/reorder so those faults do not turn into gaps.
   */
  push(topic: string, text: string, ordered = false): boolean {
    const hub = this.hub;
    if (hub.fault('silent') || hub.fault('heartbeatOnly')) return false;
    this.dataCount++;
    if (!ordered && hub.fault('reorder') && !this.held.has(topic) && this.dataCount % 7 === 0) {
      this.held.set(topic, text); // goes out after the topic's next frame: adjacent frames swapped
      return true;
    }
    const copies = hub.floodFactor();
    let sent = false;
    for (let i = 0; i < copies; i++) sent = this.sendRaw(text, false) || sent;
    if (!ordered && hub.fault('dup') && this.dataCount % 10 === 0) this.sendRaw(text, false);
    const h = this.held.get(topic);
    if (h !== undefined) {
      this.held.delete(topic);
      this.sendRaw(h, false);
    }
    return sent;
  }
}
