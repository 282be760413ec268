import { useEffect } from 'react';
import { fmtAge } from '../format.ts';
import { useStaleness } from '../useStaleness.ts';

/** Cannot be missed: shown while the figures are stale, age counting up; clears itself on recovery. */
export function StaleBanner() {
  const st = useStaleness(250);
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
