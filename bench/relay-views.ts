/**
 * The relay bench's screens (bench/relay.bench.ts) and its latency probe (bench/relay-probe.ts): a view
 * is one venue x currency as the app shows it, with what the app's own clients send on each socket.
 */
import WebSocket from 'ws';
import type { Currency } from '../src/chain/model.ts';
import type { VenueId } from '../src/shared/venues.ts';

/** One view's sockets and what the app sent on each (path -> messages, in order). */
export type View = { venue: VenueId; currency: Currency; sent: Map<string, string[]> };

/** A view as JSON (to a probe process). */
export type ViewJson = { venue: VenueId; currency: Currency; sent: [string, string[]][] };
export const viewToJson = (v: View): ViewJson => ({ venue: v.venue, currency: v.currency, sent: [...v.sent] });
export const viewFromJson = (v: ViewJson): View => ({ venue: v.venue, currency: v.currency, sent: new Map(v.sent) });

/**
 * Frames timed for latency: a frame's bytes are the same upstream and downstream (the relay relays
 * them as received), so a screen's arrival is timed against the monitor's arrival of the same bytes
 * on the simulator. Bybit's option tickers (6,300 a second a currency) are counted, not timed.
 */
export const timed = (v: View) => v.venue !== 'bybit';

export function pct(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
}

/** A screen (or the monitor): the view's sockets on `base`, every message sent again as the app sent it. */
export function openView(base: string, view: View, onFrame: (text: string, at: number) => void): WebSocket[] {
  const out: WebSocket[] = [];
  for (const [path, msgs] of view.sent) {
    const ws = new WebSocket(base + path, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 });
    ws.on('open', () => {
      let i = 0;
      // paced as the clients pace them (a few a second at most)
      const next = () => {
        if (i >= msgs.length || ws.readyState !== WebSocket.OPEN) return;
        ws.send(msgs[i++]);
        setTimeout(next, 50);
      };
      next();
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const text = data.toString();
      if (text.includes('test_request')) ws.send('{"jsonrpc":"2.0","method":"public/test","params":{}}');
      onFrame(text, performance.now());
    });
    ws.on('error', () => undefined);
    out.push(ws);
  }
  return out;
}

