import { memo, useCallback, useMemo } from 'react';
import type { GexResult } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { C } from '../colors.ts';
import { niceSymmetric, profileRows } from '../data.ts';
import { fmtLevel, fmtSignedPct, fmtSpot, fmtUsd } from '../format.ts';
import { CanvasChart, drawGrid, drawXMark, drawYMark, linear, nearestIndex, plotArea, xTicksOf, type ChartFrame } from './canvas.tsx';
import { selectShownGex, usePacedGex } from './pace.ts';
import { useChartStyle, type ChartStyle } from './style.ts';
import { fittedTicks } from './ticks.ts';
import { Tip } from './Tip.tsx';

/** Total dealer GEX across hypothetical spots, every zero crossing and today's spot. */
export const GammaProfileChart = memo(function GammaProfileChart() {
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const g = usePacedGex(selectShownGex);
  const past = useGex((s) => s.past !== null);
  const style = useChartStyle();
  if (past) return <div className="empty">{PAST_NOTE}</div>;
  return <ProfileView g={g} style={style} />;
});

interface ProfileFrame extends ChartFrame {
  x: (v: number) => number;
  xInv: (px: number) => number;
  y: (v: number) => number;
}

const ProfileView = memo(function ProfileView({ g, style }: { g: GexResult | null; style: ChartStyle }) {
  const rows = useMemo(() => (g ? profileRows(g) : []), [g]);
  const prices = useMemo(() => Float64Array.from(rows, (r) => r.price), [rows]);
  const y = useMemo(() => niceSymmetric(rows.map((r) => r.gex)), [rows]);
  const lo = rows.length > 0 ? rows[0].price : NaN;
  const hi = rows.length > 0 ? rows[rows.length - 1].price : NaN;
  const frame = useCallback((width: number, height: number): ProfileFrame => {
    const plot = plotArea(width, height, style);
    const x = linear(lo, hi, plot.x, plot.x + plot.w);
    const ys = linear(y.domain[0], y.domain[1], plot.y + plot.h, plot.y);
    const chars = Math.max(fmtLevel(lo).length, fmtLevel(hi).length);
    return {
      width, height, plot, x, y: ys, xInv: linear(plot.x, plot.x + plot.w, lo, hi),
      xTicks: xTicksOf(fittedTicks(lo, hi, plot.w, chars, style.fontSize, 6), x, fmtLevel, width, style.fontSize),
      yTicks: y.ticks.map((v) => ({ at: ys(v), label: fmtUsd(v) })),
    };
  }, [style, lo, hi, y]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    if (!g || rows.length === 0) return;
    const pf = f as ProfileFrame;
    const plot = f.plot;
    drawGrid(ctx, f);
    const y0 = pf.y(0);
    // Green above zero, red below: the same path filled and stroked twice, each clipped to its side.
    const path = new Path2D();
    const area = new Path2D();
    area.moveTo(pf.x(rows[0].price), y0);
    rows.forEach((r, i) => {
      const px = pf.x(r.price);
      const py = pf.y(r.gex);
      if (i === 0) path.moveTo(px, py);
      else path.lineTo(px, py);
      area.lineTo(px, py);
    });
    area.lineTo(pf.x(rows[rows.length - 1].price), y0);
    area.closePath();
    for (const [top, bottom, color] of [[plot.y, y0, C.call], [y0, plot.y + plot.h, C.put]] as const) {
      ctx.save();
      ctx.beginPath();
      ctx.rect(plot.x, top, plot.w, bottom - top);
      ctx.clip();
      ctx.globalAlpha = 0.28;
      ctx.fillStyle = color;
      ctx.fill(area);
      ctx.globalAlpha = 1;
      ctx.strokeStyle = color;
      ctx.lineWidth = style.lineWidth;
      ctx.stroke(path);
      ctx.restore();
    }
    drawYMark(ctx, plot, y0, C.axis);
    g.zeroGammaCrossings.filter((x) => x >= lo && x <= hi).forEach((x, i) => {
      drawXMark(ctx, plot, pf.x(x), style, C.zero, { width: i === 0 ? style.lineWidth : style.lineWidth / 2, dash: [6, 4], label: { text: i === 0 ? `zero γ ${fmtLevel(x)}` : fmtLevel(x), row: 1 + (i % 3) } });
    });
    drawXMark(ctx, plot, pf.x(g.spot), style, C.spot, { width: style.lineWidth, label: { text: `spot ${fmtLevel(g.spot)}`, row: 0 } });
  }, [g, rows, lo, hi, style]);
  const tip = useCallback((f: ChartFrame, px: number) => {
    const r = rows[nearestIndex(prices, (f as ProfileFrame).xInv(px))];
    if (!r || !g) return null;
    return (
      <Tip
        title={`Spot ${fmtSpot(r.price)} (${fmtSignedPct(r.price / g.spot - 1)})`}
        rows={[['Total net GEX / 1%', fmtUsd(r.gex)], ['exact', `${Math.round(r.gex).toLocaleString('en-US')} USD`]]}
      />
    );
  }, [rows, prices, g]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  return <CanvasChart style={style} frame={frame} draw={draw} tip={tip} marks={{ lines: 1 }} label="Total dealer gamma across spot" />;
});

/** What a past minute does not keep (the views say so rather than show the present as the past). */
export const PAST_NOTE = 'Not kept for past minutes: back to live to see it';
