/**
 * One client's session on a venue path of the local server (every venue's sessions are this class):
 * the shared ClientSocket (bounded send buffer, request budget, channel cap) plus the data-path fault
 * switches applied per frame (silent, heartbeatOnly, flood, dup, reorder) and the protocol's per-topic
 * state. The hub (./hub.ts) owns the sessions; the venue protocol reads and answers their frames.
 */
import type { Writable } from 'node:stream';
import type { WebSocket } from 'ws';
import { ClientSocket } from './client-socket.ts';
import type { VenueHub } from './hub.ts';

/** A session's counters, for /__gexdesk/info-style stats and the security tests. */
export interface SessionStats {
  id: number;
  ip: string;
  sentFrames: number;
  skippedFrames: number;
  maxBuffered: number;
  closedSlow: boolean;
}

export class VenueSession extends ClientSocket {
  /** Per-topic state owned by the protocol (e.g. the book last sent, for diffs). */
  readonly state = new Map<string, unknown>();
  readonly openedAt = Date.now();
  lastInboundAt = Date.now();
  gapPending = false;
  /** Protocol scratch (e.g. OKX's subscribe requests this hour). */
  counters: Record<string, number> = {};
  private dataCount = 0;
  /** `reorder`: a frame held back per topic, sent after the topic's next one. */
  private held = new Map<string, string | Buffer>();
  /** `reorder`: a frame per topic kept to be sent again once it is 5 s old. */
  private old = new Map<string, { at: number; text: string | Buffer }>();

  constructor(
    ws: WebSocket,
    readonly hub: VenueHub,
    readonly id: number,
    readonly path: string,
    readonly ip: string,
    transport?: Pick<Writable, 'cork' | 'uncork'>,
  ) {
    super(ws, hub.limits, transport);
  }

  get connId(): string {
    return `${this.hub.venue}-${this.id.toString(16).padStart(8, '0')}`;
  }

  get stats(): SessionStats {
    return { id: this.id, ip: this.ip, sentFrames: this.sentFrames, skippedFrames: this.skippedFrames, maxBuffered: this.maxBuffered, closedSlow: this.closedSlow };
  }

  /** A reply to a request (ack, error, pong): dropped only by `silent`. */
  reply(text: string): void {
    if (this.hub.fault('silent')) return;
    this.sendRaw(text, true);
  }

  /**
   * A data frame of a topic with the data-path faults applied: `flood` sends copies, `dup` every 10th
   * frame twice, `reorder` holds a frame back until the topic's next one (adjacent frames swapped) and
   * sends a frame again once it is 5 s old. `ordered` topics (books whose frames name their
   * predecessor) are exempt from reorder, and from dup unless `dupsKnown` (the client tells a repeated
   * frame by its sequence id, as Deribit's does by change_id); otherwise those faults would only be gaps.
   * `essential` frames (trades: a lost one is a wrong position, not a late one) are not skipped under
   * backpressure; past the hard limit the client is dropped instead.
   */
  push(topic: string, text: string | Buffer, ordered = false, dupsKnown = false, essential = false): boolean {
    const hub = this.hub;
    if (!hub.dataOn) return false;
    this.dataCount++;
    if (!ordered && hub.fault('reorder')) {
      if (!this.held.has(topic) && this.dataCount % 7 === 0) {
        this.held.set(topic, text);
        return true;
      }
      const o = this.old.get(topic);
      const now = Date.now();
      if (!o) this.old.set(topic, { at: now, text });
      else if (now - o.at >= 5_000) {
        this.sendRaw(o.text, false);
        this.old.set(topic, { at: now, text });
      }
    }
    const copies = hub.floodFactor();
    let sent = false;
    for (let i = 0; i < copies; i++) sent = this.sendRaw(text, essential) || sent;
    if ((!ordered || dupsKnown) && hub.fault('dup') && this.dataCount % 10 === 0) this.sendRaw(text, false);
    const h = this.held.get(topic);
    if (h !== undefined) {
      this.held.delete(topic);
      this.sendRaw(h, false);
    }
    return sent;
  }

  /** An essential data frame (a listing event): not skipped under backpressure, but data all the same (none under `silent`/`heartbeatOnly`). */
  announce(text: string): boolean {
    return this.hub.dataOn && this.sendRaw(text, true);
  }
}
