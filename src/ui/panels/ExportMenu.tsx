import { useGex, useGexStoreApi } from '../../state/react.ts';
import { chartImage, download, exportName, viewCsv } from '../export.ts';

/** The charts a PNG can be made of: test id (where it is on the page), file suffix and title. */
const CHARTS: readonly { id: string; slug: string; title: string }[] = [
  { id: 'chart-gamma-by-strike', slug: 'by-strike', title: 'Gamma by strike' },
  { id: 'chart-gamma-profile', slug: 'profile', title: 'Gamma profile across spot' },
  { id: 'chart-hedge-flow', slug: 'hedge-flow', title: 'Dealer hedge flow per move' },
  { id: 'chart-session-history', slug: 'session-history', title: 'Session history' },
  { id: 'chart-gex-heatmap', slug: 'gex-over-time', title: 'GEX by strike over time' },
  { id: 'chart-gex-by-expiry', slug: 'by-expiry', title: 'GEX by expiry' },
  { id: 'chart-strike-expiry', slug: 'strike-expiry', title: 'GEX by strike and expiry' },
];

/** The history panel's charts by its tab. */
const TAB_OF: Readonly<Record<string, string>> = {
  'chart-session-history': 'spot', 'chart-gex-heatmap': 'heatmap', 'chart-gex-by-expiry': 'expiry', 'chart-strike-expiry': 'strikes',
};

/** The view as CSV, and each chart on screen as PNG, named with currency, venues, model and venue time. */
export function ExportMenu() {
  const store = useGexStoreApi();
  const hasResult = useGex((s) => s.result !== null);
  const historyTab = useGex((s) => s.view.historyTab);
  const shown = () => {
    const s = store.getState();
    return { r: s.past?.result ?? s.result, past: s.past !== null, view: s.view };
  };
  const csv = () => {
    const { r, past, view } = shown();
    if (!r) return;
    download(`${exportName(r)}.csv`, new Blob([viewCsv(r, view, past)], { type: 'text/csv;charset=utf-8' }));
  };
  const png = async (chart: (typeof CHARTS)[number]) => {
    const { r, past } = shown();
    const el = document.querySelector<HTMLElement>(`[data-testid="${chart.id}"]`);
    if (!r || !el) return;
    const title = `${chart.title} · ${r.selection.currency} ${r.selection.venues.join('+')} · ${r.selection.model} · ${new Date(r.gex.nowMs).toISOString().slice(0, 19).replace('T', ' ')} UTC${past ? ' (past)' : ''}`;
    const blob = await chartImage(el, title);
    if (blob) download(`${exportName(r, chart.slug)}.png`, blob);
  };
  // The history panel shows one of its tabs: only that one's chart is on screen.
  const onScreen = CHARTS.filter((c) => !(c.id in TAB_OF) || TAB_OF[c.id] === historyTab);
  return (
    <details className="dropdown control right" data-testid="export-menu">
      <summary>Export</summary>
      <div className="dropdown-panel export-panel">
        <button className="btn" data-testid="export-csv" disabled={!hasResult} onClick={csv} title="key levels, by strike, the profile, flows and the ladder as on screen">
          CSV of this view
        </button>
        {onScreen.map((c) => (
          <button key={c.id} className="btn" data-testid="export-png" data-chart={c.id} disabled={!hasResult} onClick={() => void png(c)}>
            PNG: {c.title}
          </button>
        ))}
      </div>
    </details>
  );
}
