import { memo, useCallback, useMemo } from 'react';
import type { HistoryPoint } from '../../state/history.ts';
import { useGex } from '../../state/react.ts';
import { C } from '../colors.ts';
import { historyRows } from '../data.ts';
import { fmtLevel, fmtSpot, fmtTimeUtc } from '../format.ts';
import { CanvasChart, drawGrid, drawLine, drawXMark, linear, nearestIndex, plotArea, xTicksOf, type ChartFrame } from './canvas.tsx';
import { selectHistory, usePacedGex } from './pace.ts';
import { useChartStyle, type ChartStyle } from './style.ts';
import { fittedTicks, timeStepShowsSeconds, timeTicks } from './ticks.ts';
import { Tip } from './Tip.tsx';

/** Spot and zero gamma over the session (venue time), bounded and kept across reloads; a past minute shown is marked. */
export const SessionHistory = memo(function SessionHistory() {
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const history = usePacedGex(selectHistory);
  const pastT = useGex((s) => s.past?.t ?? null);
  const style = useChartStyle();
  return <HistoryView history={history} style={style} pastT={pastT} />;
});

const shortTime = (t: number) => fmtTimeUtc(t).slice(0, 5);

interface HistoryFrame extends ChartFrame {
  x: (t: number) => number;
  tInv: (px: number) => number;
  y: (v: number) => number;
}

const HistoryView = memo(function HistoryView({ history, style, pastT }: { history: HistoryPoint[]; style: ChartStyle; pastT: number | null }) {
  const rows = useMemo(() => historyRows(history), [history]);
  const ts = useMemo(() => Float64Array.from(rows, (p) => p.t), [rows]);
  const t0 = rows.length > 0 ? rows[0].t : NaN;
  const t1 = rows.length > 0 ? rows[rows.length - 1].t : NaN;
  const [lo, hi] = useMemo(() => {
    let a = Infinity;
    let b = -Infinity;
    for (const p of rows) {
      for (const v of [p.spot, p.zeroGamma]) {
        if (v === null || !Number.isFinite(v)) continue;
        a = Math.min(a, v);
        b = Math.max(b, v);
      }
    }
    const pad = Math.max((b - a) * 0.05, Math.abs(b) * 0.0005);
    return [a - pad, b + pad];
  }, [rows]);
  const frame = useCallback((width: number, height: number): HistoryFrame => {
    const plot = plotArea(width, height, style);
    const x = linear(t0, t1, plot.x, plot.x + plot.w);
    const y = linear(lo, hi, plot.y + plot.h, plot.y);
    const tt = timeTicks(t0, t1, plot.w, style.fontSize);
    const yTicks = fittedTicks(lo, hi, plot.h, 1, style.fontSize, 5);
    return {
      width, height, plot, x, y, tInv: linear(plot.x, plot.x + plot.w, t0, t1),
      xTicks: xTicksOf(tt.ticks, x, timeStepShowsSeconds(tt.stepMs) ? fmtTimeUtc : shortTime, width, style.fontSize),
      yTicks: yTicks.map((v) => ({ at: y(v), label: fmtLevel(v) })),
    };
  }, [style, t0, t1, lo, hi]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    const hf = f as HistoryFrame;
    drawGrid(ctx, f);
    const xs = Float64Array.from(ts, hf.x);
    drawLine(ctx, f.plot, xs, Float64Array.from(rows, (p) => hf.y(p.spot)), C.spot, style.lineWidth);
    drawLine(ctx, f.plot, xs, Float64Array.from(rows, (p) => (p.zeroGamma === null ? NaN : hf.y(p.zeroGamma))), C.zero, style.lineWidth, [5, 3]);
    if (pastT !== null) drawXMark(ctx, f.plot, hf.x(pastT), style, C.past, { width: style.lineWidth, label: { text: `past ${shortTime(pastT)}`, row: 0 } });
  }, [ts, rows, style, pastT]);
  const tip = useCallback((f: ChartFrame, px: number) => {
    const p = rows[nearestIndex(ts, (f as HistoryFrame).tInv(px))];
    if (!p) return null;
    return (
      <Tip
        title={`${new Date(p.t).toISOString().slice(0, 10)} ${fmtTimeUtc(p.t)} UTC`}
        rows={[['Spot', fmtSpot(p.spot), 'c-spot'], ['Zero gamma', p.zeroGamma === null ? 'none in range' : fmtLevel(p.zeroGamma), 'c-zero']]}
      />
    );
  }, [rows, ts]);
  if (history.length < 2) return <div className="empty">Collecting history (one point per 10 s)…</div>;
  return <CanvasChart style={style} frame={frame} draw={draw} tip={tip} marks={{ lines: 2 }} label="Spot and zero gamma over the session" />;
});
