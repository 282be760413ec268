import type { ReactNode } from 'react';

/** The part of recharts' tooltip props the tips read. */
export interface TipProps {
  active?: boolean;
  payload?: readonly { payload?: unknown }[];
}

/** The row under the cursor, from recharts' tooltip props. */
export function tipRow<T>(props: TipProps): T | null {
  if (!props.active || !props.payload || props.payload.length === 0) return null;
  return (props.payload[0].payload as T) ?? null;
}

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

export const BAR_CURSOR = { fill: 'rgba(255,255,255,0.06)' };
