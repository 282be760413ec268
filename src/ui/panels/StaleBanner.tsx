import { useEffect, useRef } from 'react';
import { staleness, useGex, useGexStoreApi } from '../../state/store.ts';
import { fmtAge } from '../format.ts';
import { useNow } from '../useNow.ts';

/**
 * Cannot be missed: shown when no update for 10 s or a feed is stale/down, age counting up; clears
 * itself on recovery. Reads the store on a 4 Hz tick (transient) rather than on every result.
 */
export function StaleBanner() {
  const store = useGexStoreApi();
  const now = useNow(250);
  const hasResult = useGex((s) => s.result !== null);
  // When the current view started waiting for data (load or currency switch).
  const since = useRef<number | null>(null);
  useEffect(() => {
    if (!hasResult) since.current = Date.now();
  }, [hasResult]);
  const s = store.getState();
  // eslint-disable-next-line react-hooks/refs -- a timestamp read on the 4 Hz tick, not render state
  const st = staleness(s, now, since.current);
  useEffect(() => {
    document.documentElement.classList.toggle('is-stale', st.stale);
  }, [st.stale]);
  if (!st.stale) return null;
  const down = st.reason !== null && /down|reconnecting/.test(st.reason);
  return (
    <div className="stale-banner" data-testid="stale-banner" role="alert">
      {down ? 'FEED DOWN' : 'DATA STALE'} — last update <span className="age">{fmtAge(st.ageMs)}</span> ago
      <small>{st.reason ?? 'no update'} · figures below are not current</small>
    </div>
  );
}
