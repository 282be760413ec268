import { useGex } from '../../state/react.ts';
import { fmtTimeUtc } from '../format.ts';
import { useWakeLock } from '../kiosk/useKiosk.ts';
import { Controls } from '../panels/Controls.tsx';
import { SourceBadge } from '../panels/SourceBadge.tsx';
import { AfterExpiryBadge } from '../panels/BeyondGamma.tsx';
import { PastBadge } from '../panels/HistoryPanel.tsx';
import { useNow } from '../useNow.ts';
import { ControlsDrawer } from './ControlsDrawer.tsx';

/** What the page shows, in one line: where the controls are out of sight (phone) or absent (kiosk). */
function ViewSummary({ className }: { className?: string }) {
  const currency = useGex((s) => s.view.currency);
  const venues = useGex((s) => s.view.venues);
  const model = useGex((s) => s.view.model);
  return <span className={className} data-testid="view-summary"><b>{currency}</b> {venues.join(' + ')} · {model} dealers</span>;
}

/** Brand, source badge and the view controls; on a phone the controls are in a drawer. */
export function DeskHeader({ phone, menuOpen, closeMenu }: { phone: boolean; menuOpen: boolean; closeMenu: () => void }) {
  return (
    <header className="header">
      <span className="brand">gexdesk<small>dealer gamma</small></span>
      <SourceBadge />
      <AfterExpiryBadge />
      <PastBadge />
      {phone && <ViewSummary className="view-summary" />}
      <ControlsDrawer phone={phone} open={menuOpen} onClose={closeMenu}>
        <Controls />
      </ControlsDrawer>
    </header>
  );
}

export function KioskHeader() {
  const currency = useGex((s) => s.view.currency);
  const venues = useGex((s) => s.view.venues);
  const model = useGex((s) => s.view.model);
  const now = useNow(1000);
  const wake = useWakeLock(true);
  return (
    <header className="header">
      <span className="brand">gexdesk</span>
      <span className="kiosk-title">{currency}</span>
      <span className="brand"><small>{venues.join(' + ')} · {model} dealers</small></span>
      <SourceBadge />
      <AfterExpiryBadge />
      <PastBadge />
      {(wake === 'failed' || wake === 'unsupported') && <span className="wake" title="Screen Wake Lock unavailable">screen may sleep</span>}
      <span className="kiosk-clock num">{fmtTimeUtc(now)} UTC</span>
    </header>
  );
}
