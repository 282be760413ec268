/**
 * History: spot and zero gamma over the session, GEX by strike over time (heatmap), GEX by expiry and
 * by strike and expiry, as tabs of one panel (the desk's screen has no room for four more), and the
 * scrubber under them: any past minute of the last 24 hours in every view, marked as the past, with
 * "back to live". The tab is in the link (`history=`), so a wall display shows the one it names.
 */
import { useMemo } from 'react';
import { useGex } from '../../state/react.ts';
import { MINUTE_MS } from '../../state/minutes.ts';
import { HISTORY_TABS, type HistoryTab } from '../../state/url.ts';
import { C } from '../colors.ts';
import { GexByExpiryChart, ShareNext24h, StrikeExpiryChart } from '../charts/ExpiryCharts.tsx';
import { GexHeatmap } from '../charts/GexHeatmap.tsx';
import { selectShownGex, usePacedGex } from '../charts/pace.ts';
import { SessionHistory } from '../charts/SessionHistory.tsx';
import { shareExpiringWithin } from '../data.ts';
import { fmtTimeUtc } from '../format.ts';
import { Legend, Panel } from '../layout/Panel.tsx';

const TAB_TEXT: Readonly<Record<HistoryTab, { tab: string; title: string; testId: string }>> = {
  spot: { tab: 'history', title: 'Session history: spot and zero gamma, UTC', testId: 'chart-session-history' },
  heatmap: { tab: 'GEX map', title: 'GEX by strike over time: net GEX each minute for 24 h, UTC', testId: 'chart-gex-heatmap' },
  expiry: { tab: 'expiry', title: 'GEX by expiry', testId: 'chart-gex-by-expiry' },
  strikes: { tab: 'K×exp', title: 'GEX by strike and expiry', testId: 'chart-strike-expiry' },
};

/** The tabs stand for the panel's title on a desk (the chosen one is it); a wall display shows the title. */
function Tabs({ tab }: { tab: HistoryTab }) {
  const setView = useGex((s) => s.actions.setView);
  return (
    <span className="history-tabs hide-kiosk" role="tablist" aria-label="history view">
      {HISTORY_TABS.map((t) => (
        <button key={t} role="tab" aria-selected={t === tab} title={TAB_TEXT[t].title} data-testid={`history-tab-${t}`} onClick={() => setView({ historyTab: t })}>
          {TAB_TEXT[t].tab}
        </button>
      ))}
    </span>
  );
}

/** What the tab shows beyond its legend: the share of GEX expiring within a day, on the expiry tabs. */
function Sub({ tab }: { tab: HistoryTab }) {
  return tab === 'expiry' || tab === 'strikes' ? <ExpirySub /> : null;
}

/** The share of GEX that expires within the next 24 hours (design: the gamma that leaves at 08:00). */
function ExpirySub() {
  const g = usePacedGex(selectShownGex);
  const share = useMemo(() => (g ? shareExpiringWithin(g, 24 * 3_600_000) : null), [g]);
  return <ShareNext24h share={share} />;
}

export function HistoryPanel() {
  const tab = useGex((s) => s.view.historyTab);
  const text = TAB_TEXT[tab];
  const legend = tab === 'spot' || tab === 'heatmap' ? <Legend items={[['spot', C.spot], ['zero γ', C.zero]]} /> : null;
  const kiosk = useGex((s) => s.view.kiosk);
  return (
    <Panel area="history" title={kiosk ? text.title.split(':')[0] : <Tabs tab={tab} />} sub={<Sub tab={tab} />} legend={legend}>
      <div className="chart-body" data-testid={text.testId}>
        {tab === 'spot' ? <SessionHistory /> : tab === 'heatmap' ? <GexHeatmap /> : tab === 'expiry' ? <GexByExpiryChart /> : <StrikeExpiryChart />}
      </div>
      <Scrubber />
    </Panel>
  );
}

/** Any minute of the stored GEX over time, shown in every view; the right end is live. */
function Scrubber() {
  const minutes = useGex((s) => s.minutes);
  const pastT = useGex((s) => s.past?.t ?? null);
  const showPast = useGex((s) => s.actions.showPast);
  if (minutes.length < 2) return null;
  const first = minutes[0].t;
  const last = minutes[minutes.length - 1].t;
  return (
    <div className={`scrubber hide-kiosk${pastT !== null ? ' past' : ''}`}>
      <input type="range" min={first} max={last} step={MINUTE_MS} value={pastT ?? last} data-testid="history-scrubber"
        aria-label="show a past minute" aria-valuetext={pastT === null ? 'live' : `${fmtTimeUtc(pastT).slice(0, 5)} UTC`}
        onChange={(e) => {
          const t = Number(e.target.value);
          showPast(t >= last ? null : t);
        }} />
      <span className="num scrub-at">{pastT === null ? 'live' : `${fmtTimeUtc(pastT).slice(0, 5)} UTC`}</span>
      {pastT !== null && <button className="btn" data-testid="back-to-live" onClick={() => showPast(null)}>back to live</button>}
    </div>
  );
}

/** While a past minute is shown, the header says so: these are not the figures of now. */
export function PastBadge() {
  const past = useGex((s) => s.past);
  const showPast = useGex((s) => s.actions.showPast);
  if (!past) return null;
  return (
    <span className="badge past" data-testid="past-badge" data-t={past.t} title="the views show a past minute of the history; the profile, flows and ladder are not kept for past minutes">
      PAST {new Date(past.t).toISOString().slice(0, 10)} {fmtTimeUtc(past.t).slice(0, 5)} UTC
      <button className="btn" onClick={() => showPast(null)} aria-label="back to live">back to live</button>
    </span>
  );
}
