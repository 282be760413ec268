/**
 * Who may talk to the local server (issues 6 and 11): the Host header must name this server (DNS
 * rebinding), upgrades and control POSTs must come from an allowed Origin, and the venue REST paths
 * refuse a cross-site request.
 */
import type http from 'node:http';
import { isIP } from 'node:net';

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost', '::ffff:127.0.0.1']);

function isLoopbackHost(h: string): boolean {
  return LOOPBACK.has(h.replace(/^\[|\]$/g, ''));
}

/** The name in a Host header or an origin's host (`name:port`, `[::1]:port`), lower case, without brackets or a trailing dot; null when unreadable. */
export function hostNameOf(hostPort: string): string | null {
  try {
    return new URL(`http://${hostPort}`).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  } catch {
    return null;
  }
}

export interface AccessOptions {
  /** The address the server binds. */
  host: string;
  /** Extra allowed Origin values (e.g. the vite dev server); their host names are allowed as Host too. */
  allowedOrigins?: string[];
  /** Extra host names a request may name in its Host header. */
  allowedHosts?: string[];
  /** `host:port` the server is bound to (known once it listens). */
  boundHostPort: () => string;
}

export interface Access {
  originAllowed(origin: string | undefined, hostHeader: string | undefined): boolean;
  hostAllowed(hostHeader: string | undefined): boolean;
  restAllowed(req: http.IncomingMessage): boolean;
}

export function createAccess(o: AccessOptions): Access {
  const originAllowed = (origin: string | undefined, hostHeader: string | undefined): boolean => {
    if (origin === undefined) return true; // CLI tools and tests send none; browsers always do
    if (o.allowedOrigins?.includes(origin)) return true;
    let u: URL;
    try {
      u = new URL(origin);
    } catch {
      return false;
    }
    if (hostHeader && u.host === hostHeader) return true;
    if (u.host === o.boundHostPort()) return true;
    // while bound to loopback, other local dev servers (vite on :5173) may connect
    return isLoopbackHost(o.host) && isLoopbackHost(u.hostname);
  };

  // DNS rebinding: a page whose name the attacker points at 127.0.0.1 sends its own name as Host (and
  // as Origin, so the Origin check alone passes). An IP literal cannot be rebound, nor can localhost.
  const allowedHostNames = new Set<string>();
  for (const h of [o.host, ...(o.allowedHosts ?? []), ...(o.allowedOrigins ?? []).map((x) => (URL.canParse(x) ? new URL(x).host : ''))]) {
    const n = h ? hostNameOf(h) : null;
    if (n) allowedHostNames.add(n);
  }
  const hostAllowed = (hostHeader: string | undefined): boolean => {
    if (hostHeader === undefined) return true; // HTTP/1.0 tools; a browser always sends one
    const name = hostNameOf(hostHeader);
    if (name === null) return false;
    return isIP(name) !== 0 || name === 'localhost' || name.endsWith('.localhost') || allowedHostNames.has(name);
  };

  // A cross-site page must not spend the relay's budget or the simulator's time: a CORS request carries
  // an Origin (checked as for the control POSTs); a no-cors one (img, script, a form GET) carries only
  // Sec-Fetch-Site in browsers that send it.
  const restAllowed = (req: http.IncomingMessage): boolean => {
    const origin = req.headers.origin;
    if (origin !== undefined) return originAllowed(origin, req.headers.host);
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  };

  return { originAllowed, hostAllowed, restAllowed };
}
