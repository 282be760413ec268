/**
 * Keeps the screen awake on wall displays (reliability §3.2): request on start; a released sentinel
 * cannot be reused, so request again on `release` and when the page becomes visible. Failures are
 * reported (a small "screen may sleep" badge), never thrown.
 */
export type WakeState = 'held' | 'unsupported' | 'failed' | 'released';

interface SentinelLike {
  released: boolean;
  release(): Promise<void>;
  addEventListener(type: 'release', fn: () => void): void;
}
export interface WakeLockApi {
  request(type: 'screen'): Promise<SentinelLike>;
}

export interface WakeLockDeps {
  wakeLock: WakeLockApi | undefined;
  doc: Pick<Document, 'visibilityState' | 'addEventListener' | 'removeEventListener'>;
  onState: (s: WakeState) => void;
}

export function keepScreenAwake(deps: WakeLockDeps): () => void {
  const { wakeLock, doc, onState } = deps;
  if (!wakeLock) {
    onState('unsupported');
    return () => undefined;
  }
  let sentinel: SentinelLike | null = null;
  let stopped = false;
  let inFlight = false;

  const acquire = async () => {
    if (stopped || inFlight || doc.visibilityState !== 'visible') return;
    if (sentinel && !sentinel.released) return;
    inFlight = true;
    try {
      const s = await wakeLock.request('screen');
      if (stopped) {
        void s.release().catch(() => undefined);
        return;
      }
      sentinel = s;
      onState('held');
      s.addEventListener('release', () => {
        if (stopped) return;
        onState('released');
        void acquire();
      });
    } catch {
      onState('failed');
    } finally {
      inFlight = false;
    }
  };
  const onVisibility = () => {
    if (doc.visibilityState === 'visible') void acquire();
  };
  doc.addEventListener('visibilitychange', onVisibility);
  void acquire();
  const stop = () => {
    stopped = true;
    doc.removeEventListener('visibilitychange', onVisibility);
    if (sentinel && !sentinel.released) void sentinel.release().catch(() => undefined);
  };
  return stop;
}
