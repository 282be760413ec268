/**
 * Cheap chart marks for charts that redraw on every result. recharts' own ReferenceLine re-registers
 * itself in the chart's store after every render (two store updates, each a synchronous re-render of
 * the whole chart), and its default bar Rectangle measures its path and re-renders itself on every
 * mount, while bars are re-mounted whenever their value changes. These draw the same marks from the
 * chart's scales without either.
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
  return (
    <ZIndexLayer zIndex={DefaultZIndexes.line}>
      <g className="mark mark-x">
        <line x1={px} x2={px} y1={plot.y} y2={plot.y + plot.height} fill="none" {...style} />
        {label && (
          <text x={px + 4} y={plot.y + (label.row + 1) * (label.fontSize + 4)} fill={style.stroke} fontSize={label.fontSize}
            fontWeight={600} style={{ paintOrder: 'stroke' }} stroke="#121821" strokeWidth={3}>
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

/** A bar as one plain path (any sign of height), filled with the bar's fill. */
export function barShape(p: BarShapeProps) {
  const { x, y, width, height } = p;
  if (![x, y, width, height].every(Number.isFinite) || width === 0 || height === 0) return null;
  return <path d={`M${x},${y}h${width}v${height}h${-width}Z`} fill={p.fill} />;
}
