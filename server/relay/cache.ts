/**
 * Answers of request/response calls (Deribit's public methods, the venues' REST reads) kept for a short
 * time and shared: a key asked again within `ttlMs` of its answer gets that answer, and a key asked
 * while its call is under way waits for the same call, so twenty screens starting at once cost the
 * venue one request. Failures are not kept. Bounded: past `maxEntries` the oldest entries go.
 */
export class AnswerCache<T> {
  private readonly done = new Map<string, { at: number; value: T }>();
  private readonly pending = new Map<string, Promise<T>>();
  /** Calls that went upstream / answers given from the cache or a call under way. */
  misses = 0;
  hits = 0;

  constructor(
    readonly ttlMs: number,
    private readonly maxEntries = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The kept answer to `key` if fresh, else the call under way, else `call()` (shared with every asker meanwhile). */
  get(key: string, call: () => Promise<T>, keep: (v: T) => boolean = () => true): Promise<T> {
    const d = this.done.get(key);
    if (d && this.now() - d.at <= this.ttlMs) {
      this.hits++;
      return Promise.resolve(d.value);
    }
    const p = this.pending.get(key);
    if (p) {
      this.hits++;
      return p;
    }
    this.misses++;
    const run = call().then(
      (v) => {
        this.pending.delete(key);
        if (keep(v)) this.put(key, v);
        return v;
      },
      (e: unknown) => {
        this.pending.delete(key);
        throw e;
      },
    );
    this.pending.set(key, run);
    return run;
  }

  /** An answer seen on the way (the relay's own client asked): kept as if asked here. */
  put(key: string, value: T): void {
    this.done.delete(key);
    this.done.set(key, { at: this.now(), value });
    if (this.done.size > this.maxEntries) this.done.delete(this.done.keys().next().value as string);
  }

  clear(): void {
    this.done.clear();
  }
}
