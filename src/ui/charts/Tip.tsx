import type { ReactNode } from 'react';

/** A chart's tooltip: a title and labelled values (canvas.tsx places it beside the pointer). */
export function Tip({ title, rows }: { title: ReactNode; rows: [string, ReactNode, string?][] }) {
  return (
    <div className="tip">
      <b>{title}</b>
      {rows.map(([k, v, cls]) => (
        <div className="row" key={k}>
          <span>{k}</span>
          <span className={`num ${cls ?? ''}`}>{v}</span>
        </div>
      ))}
    </div>
  );
}

