/**
 * The flow model's positioning (design: "Dealer positions from the trade tape"), over the strike chart
 * while the view is on `flow`: the window and what of it the tapes cover, the trades counted (block
 * trades apart), the shares of dealer contracts seen whole, seen in part and assumed, and while the
 * history loads a progress bar per venue with cancel. Labelled an estimate throughout.
 */
import { memo } from 'react';
import { useGex } from '../../state/react.ts';
import type { TapeProgress } from '../../worker/protocol.ts';
import { useWorkerClient } from '../context.ts';
import { fmtPct } from '../format.ts';
import { fillWords, isFilling, windowWords } from '../positioning.ts';
import { useNow } from '../useNow.ts';

export const SHARE_COLORS = { whole: '#3fb950', inPart: '#d29922', assumed: '#6e7681' } as const;

export const PositioningPanel = memo(function PositioningPanel() {
  const flow = useGex((s) => s.view.model === 'flow');
  return flow ? <Positioning /> : null;
});

function Positioning() {
  // A past minute (the scrubber) keeps no positioning: the live one is shown.
  const pos = useGex((s) => s.result?.gex.positioning ?? null);
  const tape = useGex((s) => s.result?.tape ?? null);
  const nowMs = useGex((s) => s.result?.gex.nowMs ?? null);
  const windowDays = useGex((s) => s.view.windowDays);
  const words = tape && nowMs !== null ? windowWords(tape, nowMs) : null;
  return (
    <div className="positioning" data-testid="positioning-panel" data-full={words?.full ? '1' : '0'}>
      <span className="estimate" title="dealer positions inferred from the public trade tape: the passive side of each trade is taken to be a dealer">
        flow estimate
      </span>
      <span data-testid="positioning-window" className={words && !words.full ? 'partial' : undefined}
        title="the lookback window [W0, now]; until every venue's tape reaches back to W0 the figures cover less">
        {words ? `window ${words.asked}${words.full ? '' : ' · covers only'}: ${words.venues.join(' · ')}` : `window ${windowDays} d`}
      </span>
      <span data-testid="positioning-trades">
        {pos ? `${pos.trades.toLocaleString('en-US')} trades counted (${pos.blockTrades.toLocaleString('en-US')} block)` : 'no trades counted yet'}
      </span>
      {pos && <Shares whole={pos.seenWhole} inPart={pos.seenInPart} assumed={pos.assumed} />}
      <HistoryFill windowDays={windowDays} />
    </div>
  );
}

/** While the history loads: a bar per venue (days held, trades, time left, a failure retried) and cancel; once cancelled, resume. */
function HistoryFill({ windowDays }: { windowDays: number }) {
  const progress = useGex((s) => s.tape);
  const filling = progress.filter(isFilling);
  const cancelled = progress.filter((p) => p.history === 'cancelled');
  if (filling.length > 0) return <FillBars filling={filling} windowDays={windowDays} />;
  if (cancelled.length === 0) return null;
  return <CancelledFill cancelled={cancelled} windowDays={windowDays} />;
}

function FillBars({ filling, windowDays }: { filling: TapeProgress[]; windowDays: number }) {
  const client = useWorkerClient();
  // Retry countdowns and time left count down between progress messages.
  const wall = useNow(1000);
  return (
    <span className="history-progress" data-testid="history-progress">
      {filling.map((p) => (
        <span key={p.venue} className="fill" data-venue={p.venue} data-state={p.history}>
          <progress max={1} value={p.history === 'loading' ? undefined : Math.min(1, p.coveredMs / (windowDays * 86_400_000))} />
          <span className={p.history === 'retrying' ? 'c-put' : undefined}>{fillWords(p, windowDays, wall)}</span>
        </span>
      ))}
      <button className="btn hide-kiosk" data-testid="history-cancel" onClick={() => client?.historyFill('cancel')}>cancel</button>
    </span>
  );
}

function CancelledFill({ cancelled, windowDays }: { cancelled: TapeProgress[]; windowDays: number }) {
  const client = useWorkerClient();
  return (
    <span className="history-progress" data-testid="history-cancelled">
      {cancelled.map((p) => <span key={p.venue}>{fillWords(p, windowDays, 0)}</span>)}
      <button className="btn hide-kiosk" data-testid="history-resume" onClick={() => client?.historyFill('resume')}>resume</button>
    </span>
  );
}

/** The shares of dealer contracts (sum of |q|) by how they were found, as a bar and in words. */
function Shares({ whole, inPart, assumed }: { whole: number; inPart: number; assumed: number }) {
  const seg = (share: number, color: string) => (share > 0 ? <i style={{ width: `${share * 100}%`, background: color }} /> : null);
  return (
    <span className="shares" data-testid="positioning-shares" data-whole={whole} data-in-part={inPart} data-assumed={assumed}
      title="shares of dealer contracts (sum of |position|): seen whole (listed inside the window), seen in part (the window's imbalance applied to open interest), assumed (no trades: classic sign)">
      <span className="share-bar">{seg(whole, SHARE_COLORS.whole)}{seg(inPart, SHARE_COLORS.inPart)}{seg(assumed, SHARE_COLORS.assumed)}</span>
      <span>seen whole {fmtPct(whole, 0)} · in part {fmtPct(inPart, 0)} · assumed {fmtPct(assumed, 0)}</span>
    </span>
  );
}
