/**
 * Cheap chart marks for charts that redraw on every result. recharts' own ReferenceLine re-registers
 * itself in the chart's store after every render (two store updates, each a synchronous re-render of
 * the whole chart), and its default bar Rectangle measures its path and re-renders itself on every
 * mount, while bars are re-mounted whenever their value changes. These draw the same marks from the
 * chart's scales without either. SignStackedBars also avoids a leak of recharts' Bar on a number axis.
 */
import { memo } from 'react';
import { DefaultZIndexes, ZIndexLayer, usePlotArea, useXAxisScale, useYAxisScale, type BarShapeProps } from 'recharts';

export interface MarkLabel {
  text: string;
  /** Row at the top of the plot, so nearby lines (spot, zero gamma, walls) never print on each other. */
  row: number;
  fontSize: number;
}

interface LineStyle {
  stroke: string;
  strokeWidth?: number;
  strokeDasharray?: string;
}

/**
 * A vertical line at data value `x` with its label stacked in its own row; not drawn when `x` is
 * outside the x axis domain (recharts' `ifOverflow="discard"`).
 */
export const XMark = memo(function XMark({ x, label, ...style }: LineStyle & { x: number; label?: MarkLabel }) {
  const scale = useXAxisScale();
  const plot = usePlotArea();
  if (!scale || !plot) return null;
  const px = scale(x);
  if (typeof px !== 'number' || !Number.isFinite(px) || px < plot.x - 0.5 || px > plot.x + plot.width + 0.5) return null;
  // A label that would run past the plot's right edge (a narrow phone chart) goes left of its line.
  const flip = label !== undefined && px + 4 + label.text.length * label.fontSize * 0.62 > plot.x + plot.width;
  return (
    <ZIndexLayer zIndex={DefaultZIndexes.line}>
      <g className="mark mark-x">
        <line x1={px} x2={px} y1={plot.y} y2={plot.y + plot.height} fill="none" {...style} />
        {label && (
          <text x={flip ? px - 4 : px + 4} y={plot.y + (label.row + 1) * (label.fontSize + 4)} fill={style.stroke} fontSize={label.fontSize}
            textAnchor={flip ? 'end' : 'start'} fontWeight={600} style={{ paintOrder: 'stroke' }} stroke="#121821" strokeWidth={3}>
            {label.text}
          </text>
        )}
      </g>
    </ZIndexLayer>
  );
});

/** A horizontal line across the plot at data value `y` (the zero line). */
export const YMark = memo(function YMark({ y, ...style }: LineStyle & { y: number }) {
  const scale = useYAxisScale();
  const plot = usePlotArea();
  if (!scale || !plot) return null;
  const py = scale(y);
  if (typeof py !== 'number' || !Number.isFinite(py) || py < plot.y - 0.5 || py > plot.y + plot.height + 0.5) return null;
  return (
    <ZIndexLayer zIndex={DefaultZIndexes.line}>
      <line className="mark mark-y" x1={plot.x} x2={plot.x + plot.width} y1={py} y2={py} fill="none" {...style} />
    </ZIndexLayer>
  );
});

/** One part of a stacked bar: its value in a row and its fill (module constants, so memo holds). */
export interface BarPart<T> {
  value: (row: T) => number;
  fill: string;
}

/**
 * Bars at number-axis positions, the parts of each stacked by sign (recharts' stackOffset="sign":
 * positive parts upward from 0, negative ones downward), `gap` px each side, clipped to the plot.
 *
 * Why not recharts' Bar: on a number axis its band size is the smallest gap between bars in pixels,
 * a float that changes whenever the domain moves (the window follows spot: every result). recharts
 * memoises bar positions with reselect's weakMapMemoize, whose cache keeps primitive arguments in
 * strong Maps under keys (the chart's bar size list) that live as long as the chart, so every new
 * band size added entries never dropped: heap snapshots showed ~1 cache chain per result
 * (selectAllBarPositions), ~2 KB per result, 30 MB per live hour (issue 6).
 */
function SignStackedBarsImpl<T>({ rows, x, parts, gap = 1 }: { rows: readonly T[]; x: (row: T) => number; parts: readonly BarPart<T>[]; gap?: number }) {
  const xScale = useXAxisScale();
  const yScale = useYAxisScale();
  const plot = usePlotArea();
  if (!xScale || !yScale || !plot) return null;
  const pxs = rows.map((r) => xScale(x(r)));
  // Band: the smallest gap between neighbours, ignoring near-coincident ones (as recharts does).
  const sorted = pxs.filter((p): p is number => typeof p === 'number' && Number.isFinite(p)).sort((a, b) => a - b);
  let maxGap = 0;
  for (let i = 1; i < sorted.length; i++) maxGap = Math.max(maxGap, sorted[i] - sorted[i - 1]);
  let band = Infinity;
  for (let i = 1; i < sorted.length; i++) {
    const d = sorted[i] - sorted[i - 1];
    if (d > maxGap * 1e-4 && d < band) band = d;
  }
  if (!Number.isFinite(band)) band = plot.width * 0.05;
  let width = band - 2 * gap;
  if (width > 1) width = Math.round(width);
  if (!(width > 0)) return null;
  const left = plot.x;
  const right = plot.x + plot.width;
  const top = plot.y;
  const bottom = plot.y + plot.height;
  const bars: { d: string; fill: string }[] = [];
  rows.forEach((row, i) => {
    const px = pxs[i];
    if (typeof px !== 'number' || !Number.isFinite(px)) return;
    const x0 = Math.max(left, px - band / 2 + gap);
    const x1 = Math.min(right, px - band / 2 + gap + width);
    if (!(x1 > x0)) return;
    let pos = 0;
    let neg = 0;
    for (const part of parts) {
      const v = part.value(row);
      if (!Number.isFinite(v) || v === 0) continue;
      const base = v > 0 ? pos : neg;
      if (v > 0) pos += v;
      else neg += v;
      const ya = yScale(base);
      const yb = yScale(base + v);
      if (typeof ya !== 'number' || typeof yb !== 'number') continue;
      const y0 = Math.max(top, Math.min(ya, yb));
      const y1 = Math.min(bottom, Math.max(ya, yb));
      if (!(y1 > y0)) continue;
      bars.push({ d: `M${x0},${y0}H${x1}V${y1}H${x0}Z`, fill: part.fill });
    }
  });
  // The class recharts gives its bar paths, so tests and tools counting bars still find them.
  return (
    <ZIndexLayer zIndex={DefaultZIndexes.bar}>
      <g className="mark mark-bars">
        {bars.map((b, i) => <path key={i} className="recharts-rectangle" d={b.d} fill={b.fill} />)}
      </g>
    </ZIndexLayer>
  );
}
export const SignStackedBars = memo(SignStackedBarsImpl) as typeof SignStackedBarsImpl;

/** A bar as one plain path (any sign of height), filled with the bar's fill. */
export function barShape(p: BarShapeProps) {
  const { x, y, width, height } = p;
  if (![x, y, width, height].every(Number.isFinite) || width === 0 || height === 0) return null;
  return <path d={`M${x},${y}h${width}v${height}h${-width}Z`} fill={p.fill} />;
}
