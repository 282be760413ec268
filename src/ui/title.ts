/**
 * The document title follows the view, so tabs, bookmarks and pinned windows are told apart:
 * "BTC · zero γ 80,040 · positive γ · gexdesk", with SIM / REPLAY for anything not live, the venues when
 * not Deribit alone, and STALE first while the figures are not current.
 */
import { useEffect } from 'react';
import { useGex } from '../state/react.ts';
import type { GexResult, SourceKind, VenueId } from '../worker/protocol.ts';
import { fmtLevel } from './format.ts';
import { useStaleness } from './useStaleness.ts';

const SOURCE_TAG: Record<SourceKind, string | null> = { live: null, sim: 'SIM', replay: 'REPLAY', relay: 'RELAY' };

export function documentTitle(v: {
  currency: string;
  venues: readonly VenueId[];
  source: SourceKind;
  gex: Pick<GexResult, 'zeroGammaLevel' | 'regime'> | null;
  stale: boolean;
}): string {
  const what = v.venues.length === 1 && v.venues[0] === 'deribit' ? v.currency : `${v.currency} ${v.venues.join('+')}`;
  const parts = [v.stale ? 'STALE' : null, what];
  if (!v.gex) parts.push('waiting for data');
  else parts.push(`zero γ ${v.gex.zeroGammaLevel === null ? 'none' : fmtLevel(v.gex.zeroGammaLevel)}`, `${v.gex.regime} γ`);
  parts.push(SOURCE_TAG[v.source], 'gexdesk');
  return parts.filter((p) => p !== null).join(' · ');
}

/**
 * Keeps document.title in step with the view (once a second at most, and only when it changes); a
 * component of its own so its 1 s tick re-renders nothing else.
 */
export function DocumentTitle(): null {
  const currency = useGex((s) => s.view.currency);
  const venues = useGex((s) => s.view.venues);
  const source = useGex((s) => s.view.source);
  const zeroGammaLevel = useGex((s) => s.result?.gex.zeroGammaLevel ?? null);
  const regime = useGex((s) => s.result?.gex.regime ?? null);
  const { stale } = useStaleness(1000);
  const title = documentTitle({ currency, venues, source, gex: regime === null ? null : { zeroGammaLevel, regime }, stale });
  useEffect(() => {
    if (document.title !== title) document.title = title;
  }, [title]);
  return null;
}
