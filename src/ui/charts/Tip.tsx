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

const TICK = { fill: '#9aa7b4', fontSize: 11 };
const TICK_KIOSK = { fill: '#9aa7b4', fontSize: 16 };
/** Axis tick style; the same object every render, so recharts does not re-register the axis. */
export const axisTick = (kiosk: boolean) => (kiosk ? TICK_KIOSK : TICK);

/** Chart margins, shared constants for the same reason. */
export const MARGIN_PLOT = { top: 6, right: 16, bottom: 2, left: 4 };
export const MARGIN_HISTORY = { top: 8, right: 12, bottom: 2, left: 4 };
export const MARGIN_FLOW = { top: 8, right: 10, bottom: 2, left: 4 };
export const MARGIN_FLOW_KIOSK = { top: 8, right: 22, bottom: 2, left: 4 };
export const BAR_CURSOR = { fill: 'rgba(255,255,255,0.06)' };
