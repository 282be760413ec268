import type { ReactNode } from 'react';

/** The row under the cursor, from recharts' tooltip props. */
export function tipRow<T>(props: { active?: boolean; payload?: readonly { payload?: unknown }[] }): T | null {
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

export const axisTick = (kiosk: boolean) => ({ fill: '#9aa7b4', fontSize: kiosk ? 16 : 11 });

/**
 * Reference-line label stacked in its own row at the top of the plot, so nearby lines (spot, zero
 * gamma, walls) never print on top of each other.
 */
export function stackedLabel(text: string, color: string, row: number, fontSize: number) {
  const StackedLabel = (props: { viewBox?: { x?: number; y?: number } }) => {
    const x = props.viewBox?.x ?? 0;
    const y = (props.viewBox?.y ?? 0) + (row + 1) * (fontSize + 4);
    return (
      <text x={x + 4} y={y} fill={color} fontSize={fontSize} fontWeight={600} style={{ paintOrder: 'stroke' }} stroke="#121821" strokeWidth={3}>
        {text}
      </text>
    );
  };
  return StackedLabel;
}
