/** The headers every HTTP response carries: a strict CSP whose venue hosts come from src/shared/venues.ts, and the isolation headers. */
import type http from 'node:http';
import { VENUES } from '../../src/shared/venues.ts';

/** The venues' live websocket hosts: a live page reaches the venues directly only by websocket (REST goes through this server's relay, 'self'). */
const LIVE_WS_HOSTS = VENUES.flatMap((v) => v.liveHosts.filter((h) => h.startsWith('wss://')));

export function cspHeader(hostPort: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src 'self' ws://${hostPort} ${LIVE_WS_HOSTS.join(' ')}`,
    "img-src 'self' data:",
    "style-src 'self' 'unsafe-inline'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The request's Host when it is a plain `name:port`, else the bound address: what the CSP and the landing text name. */
export function hostOf(req: http.IncomingMessage, boundHostPort: string): string {
  const h = req.headers.host;
  return h && /^[A-Za-z0-9.\-:[\]]{1,100}$/.test(h) ? h : boundHostPort;
}

export function securityHeaders(hostPort: string): Record<string, string> {
  return {
    'content-security-policy': cspHeader(hostPort),
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin',
  };
}

export function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }).end(JSON.stringify(body));
}
