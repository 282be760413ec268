import { useGex } from '../../state/react.ts';

const LABEL = { live: 'LIVE', sim: 'SIMULATED', replay: 'REPLAY', relay: 'RELAY' } as const;
const TITLE = { live: 'venue websockets', sim: 'local server: not live market data', replay: 'local server: not live market data', relay: 'live venues through the desk relay' } as const;

/** Anything not live is labelled, always. */
export function SourceBadge() {
  const source = useGex((s) => s.view.source);
  return (
    <span className={`badge ${source}`} data-testid="source" title={TITLE[source]}>
      {LABEL[source]}
    </span>
  );
}
