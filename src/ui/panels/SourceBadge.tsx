import { useGex } from '../../state/react.ts';

const LABEL = { live: 'LIVE', sim: 'SIMULATED', replay: 'REPLAY' } as const;

/** Anything not live is labelled, always. */
export function SourceBadge() {
  const source = useGex((s) => s.view.source);
  return (
    <span className={`badge ${source}`} data-testid="source" title={source === 'live' ? 'venue websockets' : 'local server: not live market data'}>
      {LABEL[source]}
    </span>
  );
}
