/**
 * The small pieces of "beyond gamma" (design: "Beyond gamma", "Expiring lines") that sit in other
 * panels: the feedback sentence, the expiring-lines note, the after-the-next-expiry switch and badge.
 */
import { useGex } from '../../state/react.ts';
import { expiryLabel } from '../../state/url.ts';
import type { FeedbackEstimate } from '../../worker/protocol.ts';
import { fmtExpiryTime, fmtMove, fmtPct, fmtStrike } from '../format.ts';

/** "-2% becomes -2.6%" in a trader's words, or why there is no number. */
export function feedbackPhrase(f: FeedbackEstimate): string {
  if (f.status === 'runaway') return `${fmtMove(f.shock)} runs away beyond visible depth`;
  if (f.status === 'unsettled') return `${fmtMove(f.shock)} does not settle`;
  return `${fmtMove(f.shock)} becomes ${fmtMove(f.move)}`;
}

/** One sentence under the hedge-flow title: the ±2 % shocks after dealer hedging against the books. */
export function FeedbackLine() {
  const fb = useGex((s) => s.result?.gex.feedback ?? null);
  const hasResult = useGex((s) => s.result !== null);
  if (!hasResult) return null;
  if (!fb || fb.length === 0) {
    return <span className="sub feedback" data-testid="feedback-estimate">no perp book: no feedback estimate</span>;
  }
  const pick = fb.filter((f) => Math.abs(Math.abs(f.shock) - 0.02) < 1e-9);
  const shown = pick.length > 0 ? pick : fb.slice(0, 1);
  const all = fb.map(feedbackPhrase).join('; ');
  return (
    <span className="sub feedback" data-testid="feedback-estimate"
      title={`After dealer hedging against the visible perp books: ${all}. An estimate that ignores replenishing liquidity.`}>
      estimate with dealer hedging: {shown.map(feedbackPhrase).join(', ')}
    </span>
  );
}

/** Lines under one hour to expiry: counted, their share and pin, left out unless the link says so. */
export function ExpiringNote() {
  const ex = useGex((s) => s.result?.gex.expiring ?? null);
  const kiosk = useGex((s) => s.view.kiosk);
  const setView = useGex((s) => s.actions.setView);
  if (!ex || ex.lines === 0) return null;
  return (
    <span className={`expiring-note${ex.included ? ' included' : ''}`} data-testid="expiring-note">
      <span>
        {ex.lines} lines expire within the hour: {fmtPct(ex.grossGammaShare, 0)} of gross γ, pin {fmtStrike(ex.pinStrike)} —{' '}
        {ex.included ? 'included in the figures' : 'left out of the figures'}
      </span>
      {!kiosk && (
        <button className="btn" data-testid="expiring-toggle" onClick={() => setView({ includeExpiring: !ex.included })}>
          {ex.included ? 'leave out' : 'include'}
        </button>
      )}
    </span>
  );
}

/** The switch for the view after the next expiry (in the link as `after=next`). */
export function AfterNextExpirySwitch() {
  const on = useGex((s) => s.view.afterNextExpiry);
  const setView = useGex((s) => s.actions.setView);
  return (
    <button className="btn" aria-pressed={on} data-testid="after-next-expiry" onClick={() => setView({ afterNextExpiry: !on })}
      title="every view with the nearest expiry's lines removed: the gamma that unclenches at its 08:00 UTC">
      After next expiry
    </button>
  );
}

/** While the view leaves out the next expiry, the header says which: these are not the figures of now. */
export function AfterExpiryBadge() {
  const on = useGex((s) => s.view.afterNextExpiry);
  const dropped = useGex((s) => s.result?.gex.droppedExpiryMs ?? null);
  if (!on) return null;
  return (
    <span className="badge after" data-testid="after-expiry-badge" title="the nearest expiry's lines are left out of every figure">
      AFTER {dropped === null ? 'NEXT EXPIRY' : `${expiryLabel(dropped)} · ${fmtExpiryTime(dropped)}`}
    </span>
  );
}
