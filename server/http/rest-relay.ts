/**
 * The live REST relay (`/live/<venue>/rest/...`, and `/<venue>/rest/...` when no local source answers):
 * exactly the allow-listed public read-only calls, relayed to the venue's own REST host for a live page
 * whose origin the venue refuses, under a local token bucket per venue.
 */
import type { TokenBucket } from '../venues/client-socket.ts';

export interface RestAnswer {
  status: number;
  body: unknown;
}

/** Largest relayed answer, bytes. */
export const RELAY_MAX_BYTES = 16 * 1024 * 1024;
const RELAY_MAX_REDIRECTS = 3;

/**
 * Relays one allow-listed public read-only GET to the venue's REST host (live use, where the venue
 * refuses browser origins). Only the given path with only the given query keys goes out, and only
 * after its values are checked (a bad call spends no token); a redirect is followed only on the venue's
 * own host; answers are capped in size as they stream in; a local token bucket keeps us under the
 * venue's own limit.
 */
export async function relayGet(
  upstreamBase: string,
  path: string,
  query: URLSearchParams,
  allowedKeys: readonly string[],
  bucket: TokenBucket,
  fetchImpl: typeof fetch = fetch,
): Promise<RestAnswer> {
  const q = new URLSearchParams();
  for (const k of allowedKeys) {
    const v = query.get(k);
    if (v !== null) {
      if (!/^[A-Za-z0-9_\-.%=]{1,100}$/.test(v)) return { status: 400, body: { error: `bad value for ${k}` } };
      q.set(k, v);
    }
  }
  if (!bucket.take()) return { status: 429, body: { error: 'local relay rate limit' } };
  const origin = new URL(upstreamBase).origin;
  let url = `${upstreamBase}${path}${q.size > 0 ? `?${q.toString()}` : ''}`;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), 10_000);
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetchImpl(url, { headers: { accept: 'application/json' }, signal: ctl.signal, redirect: 'manual' });
      if (res.status >= 300 && res.status < 400) {
        const to = res.headers.get('location');
        const next = to === null ? null : URL.canParse(to, url) ? new URL(to, url) : null;
        // a moved path on the venue's own host is followed; anywhere else is not the venue
        if (next === null || next.origin !== origin || hop >= RELAY_MAX_REDIRECTS) return { status: 502, body: { error: 'upstream redirected off the venue host' } };
        url = next.href;
        continue;
      }
      const text = await readCapped(res, RELAY_MAX_BYTES);
      if (text === undefined) {
        ctl.abort();
        return { status: 502, body: { error: 'upstream answer too large' } };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return { status: 502, body: { error: 'upstream answer is not JSON' } };
      }
      return { status: res.status, body };
    }
  } catch (e) {
    return { status: 502, body: { error: `upstream unreachable: ${String(e).slice(0, 120)}` } };
  } finally {
    clearTimeout(timer);
  }
}

/** A response body as text, or undefined once it passes `max` bytes (the rest is not read). */
async function readCapped(res: Response, max: number): Promise<string | undefined> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
