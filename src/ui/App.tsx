import { useCallback, useState, type CSSProperties } from 'react';
import { useGex } from '../state/react.ts';
import { expiryLabel } from '../state/url.ts';
import { EXPOSURE_TEXT, GammaByStrikeChart } from './charts/GammaByStrikeChart.tsx';
import { ExposureSwitch, PriorsSwitch } from './panels/ExposureSwitch.tsx';
import { ExpiringNote, FeedbackLine } from './panels/BeyondGamma.tsx';
import { PositioningPanel } from './panels/Positioning.tsx';
import { ScenarioLadder } from './panels/ScenarioLadder.tsx';
import { GammaProfileChart } from './charts/GammaProfileChart.tsx';
import { HedgeFlowChart } from './charts/HedgeFlowChart.tsx';
import { HistoryPanel } from './panels/HistoryPanel.tsx';
import { AlertEffects, AlertLog, AlertRulesPicker } from './panels/Alerts.tsx';
import { ExportMenu } from './panels/ExportMenu.tsx';
import { PRIOR_STYLE } from './charts/GammaByStrikeChart.tsx';
import type { PriorMinutes } from '../state/minutes.ts';
import { C } from './colors.ts';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { fmtPct } from './format.ts';
import { useRotation } from './kiosk/useKiosk.ts';
import { MenuButton } from './layout/ControlsDrawer.tsx';
import { DeskHeader, KioskHeader } from './layout/Header.tsx';
import { Legend, Panel } from './layout/Panel.tsx';
import { ViewportContext, useWindowViewport } from './layout/viewport.ts';
import { KeyLevels } from './panels/KeyLevels.tsx';
import { LiveOffline } from './panels/LiveOffline.tsx';
import { Notices } from './panels/Notices.tsx';
import { StaleBanner } from './panels/StaleBanner.tsx';
import { StatusBar } from './panels/StatusBar.tsx';
import { DocumentTitle } from './title.ts';

function ExpiriesSub({ unit }: { unit: string }) {
  const expiries = useGex((s) => s.view.expiries);
  const range = useGex((s) => s.view.profileRange);
  const after = useGex((s) => (s.view.afterNextExpiry ? s.result?.gex.droppedExpiryMs ?? null : null));
  const text = expiries.length === 0 ? 'all expiries' : expiries.length <= 4 ? expiries.map(expiryLabel).join(', ') : `${expiries.length} expiries`;
  return <span className="sub">{text}{after !== null ? ` after ${expiryLabel(after)}` : ''} · strikes spot ±{fmtPct(range, 0)} · {unit}</span>;
}

/** Gamma by strike, or the exposure the switch picks (design: "Beyond gamma"). */
function StrikePanel() {
  const exposure = useGex((s) => s.view.exposure);
  const title = exposure === 'gex' ? 'Gamma by strike' : `${EXPOSURE_TEXT[exposure].name} by strike`;
  const unit = exposure === 'gex' ? 'USD per 1% move' : `USD${EXPOSURE_TEXT[exposure].per}, coin in the tooltip`;
  const priors = useGex((s) => s.view.priors);
  const flow = useGex((s) => s.view.model === 'flow');
  const ghost: [string, string][] = flow ? [['classic (ghost)', C.ghost]] : [];
  const legend = exposure === 'gex'
    ? <><Legend items={[['call', C.call], ['put', C.put], ['net dealer', C.net], ...ghost, ['spot', C.spot], ['zero γ', C.zero]]} /><PriorsLegend priors={priors} /></>
    : <Legend items={[['dealers long', C.call], ['dealers short', C.put], ['spot', C.spot]]} />;
  return (
    <Panel area="strike" title={flow ? <>{title} <span className="estimate">estimate</span></> : title} sub={<><ExpiriesSub unit={unit} /><ExpiringNote /></>}
      chartTestId="chart-gamma-by-strike" legend={<>{legend}<PriorsSwitch /><ExposureSwitch /></>} above={<PositioningPanel />}>
      <GammaByStrikeChart />
    </Panel>
  );
}

/** The priors' marks in one legend item: "ago ▪1 ▪5 ▪15 ▪30 min". */
function PriorsLegend({ priors }: { priors: readonly PriorMinutes[] }) {
  if (priors.length === 0) return null;
  return (
    <span className="legend" data-testid="priors-legend" title="each strike's net GEX that many minutes ago">
      <span>ago {priors.map((m) => <span key={m}><i style={{ background: PRIOR_STYLE[m].color }} />{m} </span>)}min</span>
    </span>
  );
}

/** The panels in reading order (a phone shows them in this order, one under another). */
function Panels() {
  return (
    <>
      <Panel area="levels" title="Key levels" legend={<span className="panel-tools hide-kiosk"><AlertRulesPicker /><ExportMenu /></span>}><KeyLevels /><AlertLog /></Panel>
      <StrikePanel />
      <Panel area="profile" title="Gamma profile across spot" sub={<span className="sub hide-kiosk">total net GEX if spot moved</span>} chartTestId="chart-gamma-profile">
        <GammaProfileChart />
      </Panel>
      <Panel area="flow" title="Dealer hedge flow per move" sub={<FeedbackLine />} legend={<Legend items={[['buy', C.buy], ['sell', C.sell], ['perp depth', C.depth]]} />}>
        <HedgeFlowChart />
      </Panel>
      <Panel area="ladder" title="Hedge flow by scenario" sub={<span className="sub hide-kiosk">spot move x horizon, dealers buy + / sell −, USD</span>}>
        <ScenarioLadder />
      </Panel>
      <HistoryPanel />
    </>
  );
}

function Dashboard() {
  const kiosk = useGex((s) => s.view.kiosk);
  const viewport = useWindowViewport(kiosk);
  const phone = viewport.layout === 'phone' && !kiosk;
  const past = useGex((s) => s.past !== null);
  const [menuOpen, setMenuOpen] = useState(false);
  const closeMenu = useCallback(() => setMenuOpen(false), []);
  useRotation();
  return (
    <ViewportContext.Provider value={viewport}>
      <div className={`app${kiosk ? ' kiosk' : ''}${past ? ' is-past' : ''}`} data-testid="app" data-kiosk={kiosk ? '1' : '0'} data-layout={viewport.layout}
        style={{ '--k': viewport.scale } as CSSProperties}>
        {kiosk ? <KioskHeader /> : <DeskHeader phone={phone} menuOpen={menuOpen} closeMenu={closeMenu} />}
        <main className="main"><Panels /></main>
        <div className="bottom-bar">
          <StatusBar />
          {phone && <MenuButton open={menuOpen} onToggle={() => setMenuOpen((o) => !o)} />}
        </div>
        <Notices />
        <StaleBanner />
        <AlertEffects />
        <LiveOffline />
        <DocumentTitle />
      </div>
    </ViewportContext.Provider>
  );
}

export function App() {
  return (
    <ErrorBoundary>
      <Dashboard />
    </ErrorBoundary>
  );
}
