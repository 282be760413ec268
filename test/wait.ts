/**
 * Waiting in tests, by condition rather than by time (issue 12, item 6), for every test that drives a
 * live server: the integration harness (./harness.ts re-exports these) and the server's own tests.
 * It imports nothing, so a server test that uses it pulls in no page code.
 *
 * - something must arrive: `waitFor` it, with a timeout;
 * - nothing may happen for a while (an absence, a steady state): `staysFor` the hold the requirement
 *   names, failing with what broke it;
 * - a burst must be over: `settled`;
 * - a rate is measured: `countOver` a deliberate window, named as such.
 */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Maybe<T> = T | null | undefined | false;

/** Polls `probe` (sync or async) until it returns a truthy value and returns it; throws after `timeoutMs`, naming `what`. */
export async function waitFor<T>(what: string, probe: () => Maybe<T> | Promise<Maybe<T>>, timeoutMs: number, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * For a condition that must hold for a while (an absence, a steady state): waits until `probe` is true,
 * then requires it to stay true for `holdMs`; throws naming what broke it. Tests that assert "nothing
 * happens" use this rather than a sleep followed by one look.
 */
export async function staysFor(what: string, probe: () => boolean | Promise<boolean>, holdMs: number, timeoutMs = holdMs + 5_000, everyMs = 25): Promise<void> {
  await waitFor(what, probe, timeoutMs, everyMs);
  const end = Date.now() + holdMs;
  while (Date.now() < end) {
    if (!(await probe())) throw new Error(`${what}: no longer so after ${holdMs - (end - Date.now())} of ${holdMs} ms`);
    await sleep(everyMs);
  }
}

/** Waits until `value()` has stopped changing for `quietMs` (a burst of requests is over) and returns it. */
export async function settled<T>(what: string, value: () => T, quietMs: number, timeoutMs = 10_000, everyMs = 25): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = JSON.stringify(value());
  let since = Date.now();
  for (;;) {
    await sleep(everyMs);
    const v = value();
    const key = JSON.stringify(v);
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return v;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} to settle`);
  }
}

/**
 * A measurement window, not a wait: how much each count grew over `windowMs` (to compare frame rates).
 * The window's length is the measurement's, so it is timed on purpose.
 */
export async function countOver(windowMs: number, count: () => number): Promise<number>;
export async function countOver<K extends string>(windowMs: number, count: () => Record<K, number>): Promise<Record<K, number>>;
export async function countOver(windowMs: number, count: () => number | Record<string, number>): Promise<number | Record<string, number>> {
  const a = count();
  await sleep(windowMs);
  const b = count();
  if (typeof a === 'number' || typeof b === 'number') return (b as number) - (a as number);
  return Object.fromEntries(Object.keys(a).map((k) => [k, b[k] - a[k]]));
}
