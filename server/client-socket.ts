/**
 * One client's websocket as every venue protocol of the local server sends to it: a bounded send buffer
 * (issue 6 security: a slow client never makes the server queue without bound). Data frames are skipped
 * above the soft limit (the next tick sends the latest state, so skipping loses nothing that matters);
 * essential frames (replies, acks, pongs, heartbeats, listings) always go; a client stuck above the hard
 * limit for the grace period is closed with 1008.
 */
import type { WebSocket } from 'ws';

export interface SendLimits {
  /** Above this many queued bytes, data frames are skipped. */
  softBufferBytes: number;
  /** Above this many queued bytes for longer than hardGraceMs, the client is closed with 1008. */
  hardBufferBytes: number;
  hardGraceMs: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = { softBufferBytes: 256 * 1024, hardBufferBytes: 4 * 1024 * 1024, hardGraceMs: 2_000 };

export class ClientSocket {
  closed = false;
  sentFrames = 0;
  skippedFrames = 0;
  /** Largest send buffer seen right after a send, bytes. */
  maxBuffered = 0;
  /** Closed for staying above the hard limit. */
  closedSlow = false;
  private overSince: number | undefined;

  constructor(
    readonly ws: WebSocket,
    private readonly limits: SendLimits,
  ) {}

  /** Send with backpressure; false when the frame was not sent (closed, skipped, or the client dropped). */
  sendRaw(text: string | Buffer, essential: boolean, binary = false): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    const buffered = this.ws.bufferedAmount;
    const lim = this.limits;
    if (buffered > lim.hardBufferBytes) {
      const now = Date.now();
      this.overSince ??= now;
      if (now - this.overSince > lim.hardGraceMs) {
        this.closedSlow = true;
        this.close(1008, 'slow consumer: send buffer over limit');
        return false;
      }
    } else this.overSince = undefined;
    if (!essential && buffered > lim.softBufferBytes) {
      this.skippedFrames++;
      return false;
    }
    this.ws.send(text, { binary });
    this.sentFrames++;
    const after = this.ws.bufferedAmount;
    if (after > this.maxBuffered) this.maxBuffered = after;
    return true;
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.onClose();
    try {
      this.ws.close(code, reason.slice(0, 123)); // a close reason is at most 123 bytes
    } catch {
      this.ws.terminate();
    }
  }

  /** Subclass hook run once when the server closes the socket (e.g. stop its heartbeat timer). */
  protected onClose(): void {}
}
