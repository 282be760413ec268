/**
 * One job per turn, in queue order, a newer job for the same key replacing the waiting one: the
 * scheduling behind usePacedGex (charts/pace.ts), kept free of React and the DOM to be tested alone.
 */
export interface Pacer {
  /** Queue `job` under `key`; a job already queued under the key is replaced and keeps its turn. */
  request(key: object, job: () => void): void;
  /** Drop the job queued under `key`, if any. */
  cancel(key: object): void;
  /** Jobs waiting. */
  readonly size: number;
}

/**
 * Runs one queued job per `post`ed turn, in queue order; `run` wraps each job (the page flushes it
 * synchronously so the chart's commit and its canvas drawing finish within the turn).
 */
export function createPacer(post: (turn: () => void) => void, run: (job: () => void) => void = (job) => job()): Pacer {
  const jobs = new Map<object, () => void>();
  let posted = false;
  const turn = () => {
    posted = false;
    const first = jobs.entries().next();
    if (first.done) return;
    const [key, job] = first.value;
    jobs.delete(key);
    try {
      run(job);
    } finally {
      if (jobs.size > 0) schedule();
    }
  };
  const schedule = () => {
    if (posted) return;
    posted = true;
    post(turn);
  };
  return {
    request(key, job) {
      jobs.set(key, job);
      schedule();
    },
    cancel(key) {
      jobs.delete(key);
    },
    get size() {
      return jobs.size;
    },
  };
}
