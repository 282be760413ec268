/** Injected time, so tests drive heartbeats, backoff, staleness and the page's watchdog without waiting. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
