/**
 * The main thread's side of the worker protocol: creates the engine worker, sends hello/select/ack/
 * request, fans FromWorker messages out to subscribers (the zustand store), and watches the worker
 * (reliability §3.4): a ping every second; no pong for 5 s, or an `error`/`messageerror` event, means
 * terminate, recreate, resend hello + the current selection, and say so. A ping timer that itself fires
 * more than 5 s late (frozen or sleeping page) restarts the count instead of blaming the worker. At most 5 restarts in 10 min,
 * then the engine is reported down instead of burning the CPU in a crash loop.
 * Imports only the protocol from our code (layering).
 */
import type { Clock } from '../shared/clock.ts';
import {
  PROTOCOL_VERSION,
  type FromWorker, type RequestKind, type ToWorker, type ViewSelection, type WorkerRequest, type WorkerRequests,
} from '../worker/protocol.ts';

/** The parts of `Worker` used here (a fake in tests). */
export interface WorkerLike {
  postMessage(msg: ToWorker): void;
  terminate(): void;
  onmessage: ((ev: MessageEvent<FromWorker> | { data: FromWorker }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onmessageerror: ((ev: unknown) => void) | null;
}

/** The page's clock: the shared Clock (a fake one in tests). */
export type ClientClock = Clock;

export interface WorkerClientOptions {
  /** Base of the local server for sim/replay, e.g. ws://127.0.0.1:8787 (default: the page's origin). */
  localBase?: string;
  createWorker?: () => WorkerLike;
  clock?: ClientClock;
  pingIntervalMs?: number;
  pongTimeoutMs?: number;
  maxRestarts?: number;
  restartWindowMs?: number;
  /** A request not answered within this is rejected (react-query retries). */
  requestTimeoutMs?: number;
}

export type EngineState = 'running' | 'down';

export interface WorkerClientStatus {
  state: EngineState;
  /** Restarts since the client was created. */
  restarts: number;
}

export interface WorkerClient {
  /** Set what the user is looking at; remembered and resent after a restart. */
  select(selection: ViewSelection): void;
  /** The page painted result `seq` (backpressure). */
  ack(seq: number): void;
  /** The trade history fill of the view's venues: stop it where it is, or go on. */
  historyFill(action: 'cancel' | 'resume'): void;
  /** One-off request (react-query's queryFn), answered with its kind's type. Rejects on error, timeout or worker restart. */
  request<K extends RequestKind>(req: Extract<WorkerRequest, { kind: K }>): Promise<WorkerRequests[K]['answer']>;
  /** Every FromWorker message except pong/response, plus client notices ("worker restarted"). */
  subscribe(listener: (msg: FromWorker) => void): () => void;
  status(): WorkerClientStatus;
  onStatus(listener: (s: WorkerClientStatus) => void): () => void;
  dispose(): void;
}

export const PING_INTERVAL_MS = 1_000;
export const PONG_TIMEOUT_MS = 5_000;
export const MAX_RESTARTS = 5;
export const RESTART_WINDOW_MS = 10 * 60_000;

function defaultLocalBase(): string {
  const loc = globalThis.location;
  if (!loc) return 'ws://127.0.0.1:8787';
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}`;
}

function defaultCreateWorker(): WorkerLike {
  return new Worker(new URL('../worker/gex.worker.ts', import.meta.url), { type: 'module' }) as unknown as WorkerLike;
}

const realClock: ClientClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export function createWorkerClient(options: WorkerClientOptions = {}): WorkerClient {
  const clock = options.clock ?? realClock;
  const createWorker = options.createWorker ?? defaultCreateWorker;
  const localBase = options.localBase ?? defaultLocalBase();
  const pingIntervalMs = options.pingIntervalMs ?? PING_INTERVAL_MS;
  const pongTimeoutMs = options.pongTimeoutMs ?? PONG_TIMEOUT_MS;
  const maxRestarts = options.maxRestarts ?? MAX_RESTARTS;
  const restartWindowMs = options.restartWindowMs ?? RESTART_WINDOW_MS;
  const requestTimeoutMs = options.requestTimeoutMs ?? 15_000;

  const listeners = new Set<(msg: FromWorker) => void>();
  const statusListeners = new Set<(s: WorkerClientStatus) => void>();
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: unknown }>();
  let worker: WorkerLike | null = null;
  let selection: ViewSelection | null = null;
  let nextId = 1;
  let lastPongAtMs = clock.now();
  let pingTimer: unknown = null;
  let state: EngineState = 'running';
  let restarts = 0;
  const restartTimes: number[] = [];
  let disposed = false;

  const emit = (msg: FromWorker): void => {
    for (const l of [...listeners]) {
      try {
        l(msg);
      } catch (e) {
        // A listener's bug must not stop the others or the watchdog.
        console.error('worker-client listener failed', e);
      }
    }
  };
  const emitStatus = (): void => {
    const s = { state, restarts };
    for (const l of [...statusListeners]) {
      try {
        l(s);
      } catch (e) {
        console.error('worker-client status listener failed', e);
      }
    }
  };

  const send = (msg: ToWorker): void => {
    if (!worker) return;
    try {
      worker.postMessage(msg);
    } catch (e) {
      emit({ type: 'notice', level: 'error', message: `could not reach the engine: ${e instanceof Error ? e.message : String(e)}` });
    }
  };

  const rejectPending = (why: string): void => {
    for (const [id, p] of pending) {
      clock.clearTimeout(p.timer);
      p.reject(new Error(why));
      pending.delete(id);
    }
  };

  const onMessage = (msg: FromWorker): void => {
    if (!msg || typeof msg !== 'object') return;
    lastPongAtMs = clock.now(); // any message proves the worker's loop runs
    switch (msg.type) {
      case 'pong':
        return;
      case 'response': {
        const p = pending.get(msg.id);
        if (!p) return;
        pending.delete(msg.id);
        clock.clearTimeout(p.timer);
        if (msg.ok) p.resolve(msg.data);
        else p.reject(new Error(msg.error));
        return;
      }
      default:
        emit(msg);
    }
  };

  const start = (): void => {
    const w = createWorker();
    worker = w;
    lastPongAtMs = clock.now();
    // Handlers ignore events from a worker that has been replaced.
    w.onmessage = (ev) => {
      if (worker === w) onMessage(ev.data);
    };
    w.onerror = (ev) => {
      if (worker !== w) return;
      // Vite/browsers report the error; we cannot tell a survivable throw from death, so restart.
      const m = ev && typeof ev === 'object' && 'message' in ev ? String((ev as { message: unknown }).message) : 'error event';
      restart(`engine error: ${m}`);
    };
    w.onmessageerror = () => {
      if (worker === w) restart('engine sent an unreadable message');
    };
    send({ type: 'hello', protocolVersion: PROTOCOL_VERSION, localBase });
    if (selection) send({ type: 'select', selection });
  };

  const stopWorker = (): void => {
    if (!worker) return;
    const w = worker;
    worker = null;
    w.onmessage = null;
    w.onerror = null;
    w.onmessageerror = null;
    try {
      w.terminate();
    } catch {
      // already gone
    }
  };

  function restart(reason: string): void {
    if (disposed || state === 'down') return;
    const now = clock.now();
    while (restartTimes.length > 0 && now - restartTimes[0] > restartWindowMs) restartTimes.shift();
    stopWorker();
    rejectPending('worker restarted');
    if (restartTimes.length >= maxRestarts) {
      state = 'down';
      emit({ type: 'notice', level: 'error', message: `engine down: restarted ${restartTimes.length} times in ${Math.round(restartWindowMs / 60_000)} min; reload the page (${reason})` });
      emitStatus();
      return;
    }
    restartTimes.push(now);
    restarts++;
    start();
    emit({ type: 'notice', level: 'warn', message: `worker restarted (${restarts}): ${reason}` });
    emitStatus();
  }

  let pingDueAtMs = clock.now() + pingIntervalMs;
  const pingLoop = (): void => {
    pingTimer = null;
    if (disposed || state === 'down') return;
    const now = clock.now();
    if (now - pingDueAtMs > pongTimeoutMs) {
      // Our own timer ran this late: the page was frozen, asleep or throttled to a wake-up a minute, and
      // the worker with it. Its answers may still be queued behind this task, so silence so far proves
      // nothing; judge it from now on.
      lastPongAtMs = now;
    } else if (now - lastPongAtMs > pongTimeoutMs) {
      restart(`no answer for ${Math.round((now - lastPongAtMs) / 1000)} s`);
    }
    if ((state as EngineState) === 'down') return; // restart() may have given up
    send({ type: 'ping', id: nextId++ });
    pingDueAtMs = clock.now() + pingIntervalMs;
    pingTimer = clock.setTimeout(pingLoop, pingIntervalMs);
  };

  start();
  pingTimer = clock.setTimeout(pingLoop, pingIntervalMs);

  return {
    select(sel) {
      selection = sel;
      send({ type: 'select', selection: sel });
    },
    ack(seq) {
      send({ type: 'ack', seq });
    },
    historyFill(action) {
      send({ type: 'history', action });
    },
    request<K extends RequestKind>(req: Extract<WorkerRequest, { kind: K }>) {
      if (disposed || state === 'down' || !worker) return Promise.reject(new Error('engine down'));
      const id = nextId++;
      // The worker answers a request with its kind's type (protocol.ts WorkerRequests).
      return new Promise<WorkerRequests[K]['answer']>((resolve, reject) => {
        const timer = clock.setTimeout(() => {
          if (pending.delete(id)) reject(new Error(`engine did not answer ${req.kind} within ${requestTimeoutMs} ms`));
        }, requestTimeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        send({ type: 'request', id, request: req });
      });
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    status() {
      return { state, restarts };
    },
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    dispose() {
      disposed = true;
      if (pingTimer !== null) clock.clearTimeout(pingTimer);
      pingTimer = null;
      rejectPending('worker client disposed');
      stopWorker();
      listeners.clear();
      statusListeners.clear();
    },
  };
}
