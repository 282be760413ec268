import type { ReactNode } from 'react';
import { ErrorBoundary } from '../ErrorBoundary.tsx';

/**
 * One dashboard panel, placed by its grid area: theme.css names where each area goes in every layout
 * (phone, stack, wide), so a new panel is one <Panel area="..."> here and one area name per layout there.
 */
export function Panel({ area, title, sub, legend, above, chartTestId, children }: {
  area: string;
  /** The title (tabs may stand for it: the history panel). */
  title: ReactNode;
  sub?: ReactNode;
  legend?: ReactNode;
  /** A strip between the title and the chart (what the chart's figures rest on: the flow model's positioning). */
  above?: ReactNode;
  /** A chart filling the panel below its title, under this test id; otherwise the body lays itself out. */
  chartTestId?: string;
  children: ReactNode;
}) {
  const body = <ErrorBoundary where={typeof title === 'string' ? title : area}>{children}</ErrorBoundary>;
  return (
    <section className="panel" style={{ gridArea: area }} data-panel={area}>
      <h2>
        <span className="title">{title}</span>
        {sub}
        {legend}
      </h2>
      {above && <ErrorBoundary where={`${area}: above the chart`}>{above}</ErrorBoundary>}
      {chartTestId ? <div className="chart-body" data-testid={chartTestId}>{body}</div> : body}
    </section>
  );
}

export function Legend({ items }: { items: [string, string][] }) {
  return (
    <span className="legend">
      {items.map(([label, color]) => (
        <span key={label}><i style={{ background: color }} />{label}</span>
      ))}
    </span>
  );
}
