import { useGex } from '../state/store.ts';
import { GammaByStrikeChart } from './charts/GammaByStrikeChart.tsx';
import { GammaProfileChart } from './charts/GammaProfileChart.tsx';
import { HedgeFlowChart } from './charts/HedgeFlowChart.tsx';
import { SessionHistory } from './charts/SessionHistory.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { C } from './colors.ts';
import { expiryLabel } from '../state/url.ts';
import { useRotation, useWakeLock } from './kiosk/useKiosk.ts';
import { Controls } from './panels/Controls.tsx';
import { KeyLevels } from './panels/KeyLevels.tsx';
import { LiveOffline } from './panels/LiveOffline.tsx';
import { Notices } from './panels/Notices.tsx';
import { SourceBadge } from './panels/SourceBadge.tsx';
import { StaleBanner } from './panels/StaleBanner.tsx';
import { StatusBar } from './panels/StatusBar.tsx';
import { fmtPct, fmtTimeUtc } from './format.ts';
import { useNow } from './useNow.ts';

function Legend({ items }: { items: [string, string][] }) {
  return (
    <span className="legend">
      {items.map(([label, color]) => (
        <span key={label}><i style={{ background: color }} />{label}</span>
      ))}
    </span>
  );
}

function ExpiriesSub() {
  const expiries = useGex((s) => s.view.expiries);
  const range = useGex((s) => s.view.profileRange);
  const text = expiries.length === 0 ? 'all expiries' : expiries.length <= 4 ? expiries.map(expiryLabel).join(', ') : `${expiries.length} expiries`;
  return <span className="sub">{text} · strikes spot ±{fmtPct(range, 0)} · USD per 1% move</span>;
}

function KioskHeader() {
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
      {(wake === 'failed' || wake === 'unsupported') && <span className="wake" title="Screen Wake Lock unavailable">screen may sleep</span>}
      <span className="kiosk-clock num">{fmtTimeUtc(now)} UTC</span>
    </header>
  );
}

function Dashboard() {
  const kiosk = useGex((s) => s.view.kiosk);
  useRotation();
  return (
    <div className={`app${kiosk ? ' kiosk' : ''}`} data-testid="app" data-kiosk={kiosk ? '1' : '0'}>
      {kiosk ? (
        <KioskHeader />
      ) : (
        <header className="header">
          <span className="brand">gexdesk<small>dealer gamma</small></span>
          <SourceBadge />
          <Controls />
        </header>
      )}
      <main className="main">
        <section className="panel" style={{ gridColumn: 1, gridRow: 1 }}>
          <h2>Gamma by strike <ExpiriesSub /><span className="spacer" />
            <Legend items={[['call', C.call], ['put', C.put], ['net dealer', C.net], ['spot', C.spot], ['zero γ', C.zero]]} />
          </h2>
          <div className="chart-body" data-testid="chart-gamma-by-strike">
            <ErrorBoundary where="Gamma by strike"><GammaByStrikeChart /></ErrorBoundary>
          </div>
        </section>
        <div className="bottom-row" style={{ gridColumn: 1, gridRow: 2 }}>
          <section className="panel">
            <h2>Gamma profile across spot <span className="sub hide-kiosk">total net GEX if spot moved</span></h2>
            <div className="chart-body" data-testid="chart-gamma-profile">
              <ErrorBoundary where="Gamma profile"><GammaProfileChart /></ErrorBoundary>
            </div>
          </section>
          <section className="panel">
            <h2>Dealer hedge flow per move <span className="spacer" />
              <Legend items={[['buy', C.buy], ['sell', C.sell], ['perp depth', C.depth]]} />
            </h2>
            <ErrorBoundary where="Hedge flow"><HedgeFlowChart /></ErrorBoundary>
          </section>
        </div>
        <div className="side">
          <section className="panel">
            <h2>Key levels</h2>
            <ErrorBoundary where="Key levels"><KeyLevels /></ErrorBoundary>
          </section>
          <section className="panel">
            <h2>Session history <span className="sub">spot and zero gamma, UTC</span></h2>
            <div className="chart-body">
              <ErrorBoundary where="Session history"><SessionHistory /></ErrorBoundary>
            </div>
          </section>
        </div>
      </main>
      <StatusBar />
      <Notices />
      <StaleBanner />
      <LiveOffline />
    </div>
  );
}

export function App() {
  return (
    <ErrorBoundary>
      <Dashboard />
    </ErrorBoundary>
  );
}
