import { useEffect, useRef } from 'react';
import { useGex, useGexStoreApi } from '../state/react.ts';
import { staleness, type Staleness } from '../state/staleness.ts';
import { useNow } from './useNow.ts';

/**
 * Whether the figures on screen are stale, re-read every `everyMs` from the store (transient, not on
 * every result): no update for 10 s, a feed stale or down, the page back from the background, or
 * figures saved from an earlier visit.
 */
export function useStaleness(everyMs: number): Staleness {
  const store = useGexStoreApi();
  const now = useNow(everyMs);
  const hasResult = useGex((s) => s.result !== null);
  // When the current view started waiting for data (load or currency switch).
  const since = useRef<number | null>(null);
  useEffect(() => {
    if (!hasResult) since.current = Date.now();
  }, [hasResult]);
  // eslint-disable-next-line react-hooks/refs -- a timestamp read on the timer's tick, not render state
  return staleness(store.getState(), now, since.current);
}
