import { useEffect, useState } from 'react';
import { useGex } from '../../state/react.ts';

const GIVE_UP_MS = 10_000;

/** Live source unreachable from this browser: say so plainly and offer the simulator. */
export function LiveOffline() {
  const source = useGex((s) => s.view.source);
  const hasResult = useGex((s) => s.result !== null);
  const feedFailed = useGex((s) => s.feeds.some((f) => f.state === 'down' || (f.state === 'reconnecting' && f.lastError !== null)));
  const setView = useGex((s) => s.actions.setView);
  const [waitedLong, setWaitedLong] = useState(false);
  useEffect(() => {
    if (source !== 'live' || hasResult) return;
    const id = setTimeout(() => setWaitedLong(true), GIVE_UP_MS);
    return () => {
      clearTimeout(id);
      setWaitedLong(false);
    };
  }, [source, hasResult]);
  if (source !== 'live' || hasResult || !(feedFailed || waitedLong)) return null;
  return (
    <div className="offline" data-testid="live-offline">
      <div className="offline-box">
        <h1>Deribit cannot be reached from this browser</h1>
        <p>The live feed connects straight from your browser to Deribit's public websocket. It is blocked or offline here.</p>
        <button className="btn primary" onClick={() => setView({ source: 'sim' })}>Switch to the simulator</button>
      </div>
    </div>
  );
}
