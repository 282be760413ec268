import { memo, useCallback, useDeferredValue, useMemo } from 'react';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { netAt, priorsAt, type Prior, type PriorMinutes } from '../../state/minutes.ts';
import type { GexState } from '../../state/store.ts';
import { C } from '../colors.ts';
import { exposureRows, niceSymmetric, strikeRows, type ExposureSeries } from '../data.ts';
import { fmtCoin, fmtLevel, fmtSpot, fmtStrike, fmtUsd } from '../format.ts';
import { CanvasChart, drawGrid, drawLine, drawXMark, drawYMark, linear, nearestIndex, plotArea, xTicksOf, type ChartFrame, type Plot } from './canvas.tsx';
import { selectShown, usePacedGex } from './pace.ts';
import { useChartStyle, type ChartStyle } from './style.ts';
import { fittedTicks } from './ticks.ts';
import { Tip } from './Tip.tsx';

/** What each exposure means on screen (design: "Beyond gamma"): the change of dealer delta it measures. */
export const EXPOSURE_TEXT: Readonly<Record<ExposureSeries, { name: string; per: string; help: string }>> = {
  dex: { name: 'Delta exposure', per: '', help: 'dealer delta by strike: what dealers hold against their options' },
  vex: { name: 'Vanna exposure', per: ' per vol point', help: 'change of dealer delta if implied vol rises one point: dealers trade the opposite' },
  chex: { name: 'Charm exposure', per: ' per day', help: 'drift of dealer delta as a day passes: dealers trade the opposite' },
};

/** The priors' marks, older fainter: 1, 5, 15 and 30 minutes ago. */
export const PRIOR_STYLE: Readonly<Record<PriorMinutes, { color: string; dash: number[] }>> = {
  1: { color: '#ffffff', dash: [] },
  5: { color: '#c9b8ff', dash: [] },
  15: { color: '#8fb8e8', dash: [3, 2] },
  30: { color: '#7d8895', dash: [2, 2] },
};

/** One bar per row: parts stacked by sign (positive up from 0, negative down), coloured by part. */
interface BarRows {
  x: Float64Array;
  parts: { values: Float64Array; fill: string }[];
}

/**
 * Bars at number-axis positions, the band the smallest gap between neighbours (as recharts' Bar on a
 * number axis), `gap` px each side, clipped to the plot. Returns the bar width.
 */
function drawBars(ctx: CanvasRenderingContext2D, plot: Plot, xs: (v: number) => number, ys: (v: number) => number, rows: BarRows, gap = 1): number {
  const n = rows.x.length;
  const px = new Float64Array(n);
  for (let i = 0; i < n; i++) px[i] = xs(rows.x[i]);
  let band = Infinity;
  for (let i = 1; i < n; i++) {
    const d = px[i] - px[i - 1];
    if (d > 1e-6 && d < band) band = d;
  }
  if (!Number.isFinite(band)) band = plot.w * 0.05;
  let width = band - 2 * gap;
  if (width > 1) width = Math.round(width);
  if (!(width > 0)) return 0;
  const left = plot.x;
  const right = plot.x + plot.w;
  for (const part of rows.parts) {
    ctx.fillStyle = part.fill;
    ctx.beginPath();
    for (let i = 0; i < n; i++) {
      const x0 = Math.max(left, px[i] - band / 2 + gap);
      const x1 = Math.min(right, px[i] - band / 2 + gap + width);
      if (!(x1 > x0)) continue;
      // Stacked by sign: this part starts where the same-signed parts before it end.
      const v = part.values[i];
      if (!Number.isFinite(v) || v === 0) continue;
      let base = 0;
      for (const p of rows.parts) {
        if (p === part) break;
        const w = p.values[i];
        if (Number.isFinite(w) && (w > 0) === (v > 0)) base += w;
      }
      const ya = ys(base);
      const yb = ys(base + v);
      const y0 = Math.max(plot.y, Math.min(ya, yb));
      const y1 = Math.min(plot.y + plot.h, Math.max(ya, yb));
      if (y1 > y0) ctx.rect(x0, y0, x1 - x0, y1 - y0);
    }
    ctx.fill();
  }
  return width;
}

/**
 * By strike, window following spot: call, put and net dealer dollar gamma per 1 % move (with the
 * priors, when asked, as marks of each strike's net GEX minutes ago), or the delta, vanna or charm
 * exposure the view's `exposure` picks. A past minute (the scrubber) shows that minute's figures.
 */
export const GammaByStrikeChart = memo(function GammaByStrikeChart() {
  // Each result arrives in this chart's own turn (pace.ts); a changed range redraws deferred.
  const r = usePacedGex(selectShown);
  const range = useDeferredValue(useGex((s) => s.view.profileRange));
  const exposure = useGex((s) => s.view.exposure);
  const coin = useGex((s) => s.view.currency);
  const priorsAsked = useGex((s) => s.view.priors);
  const minutes = useGex(selectMinutesIfPriors);
  const style = useChartStyle();
  const priors = useMemo(() => (r && priorsAsked.length > 0 && minutes ? priorsAt(minutes, r.gex.nowMs, priorsAsked) : NO_PRIORS), [r, priorsAsked, minutes]);
  return (
    <>
      {/* Which result this chart shows (the bench measures result -> chart paint with it). */}
      <span hidden data-testid="chart-stamp" data-seq={r?.seq} data-computed-at={r?.computedAtMs} data-frame-at={r?.newestFrameAtMs ?? ''}
        data-now-ms={r?.gex.nowMs} data-priors={priors.map((p) => p.minutes).join(',')} />
      {exposure !== 'gex'
        ? <ExposureView r={r} range={range} style={style} series={exposure} coin={coin} />
        : <StrikeView r={r} range={range} style={style} priors={priors} />}
    </>
  );
});

/**
 * Outlined bars from the zero line to each ghost value, a little wider than the bars drawn over them
 * (so the flow bar stands inside its classic ghost where they agree, and apart where they do not).
 */
function drawGhost(ctx: CanvasRenderingContext2D, plot: Plot, xs: Float64Array, ys: Float64Array, y0: number, style: ChartStyle): void {
  let band = Infinity;
  for (let i = 1; i < xs.length; i++) if (xs[i] - xs[i - 1] > 1e-6) band = Math.min(band, xs[i] - xs[i - 1]);
  if (!Number.isFinite(band)) band = plot.w * 0.05;
  const half = Math.max(1.5, band / 2 - 1);
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  ctx.strokeStyle = C.ghost;
  ctx.globalAlpha = 0.75;
  ctx.lineWidth = Math.max(1, style.lineWidth / 2);
  ctx.setLineDash([3, 2]);
  ctx.beginPath();
  for (let i = 0; i < xs.length; i++) {
    const top = Math.min(ys[i], y0);
    const h = Math.abs(ys[i] - y0);
    if (h >= 0.5) ctx.rect(xs[i] - half, top, 2 * half, h);
  }
  ctx.stroke();
  ctx.restore();
}

const NO_PRIORS: Prior[] = [];
/** The minutes only while priors are drawn: otherwise a new minute re-renders nothing here. */
const selectMinutesIfPriors = (s: GexState) => (s.view.priors.length > 0 ? s.minutes : null);

interface StrikeFrame extends ChartFrame {
  x: (v: number) => number;
  xInv: (px: number) => number;
  y: (v: number) => number;
}

/** The strike window [spot (1 - range), spot (1 + range)] and its ticks, for a chart of this size. */
function strikeFrame(width: number, height: number, style: ChartStyle, spot: number, range: number, y: { domain: [number, number]; ticks: number[] }): StrikeFrame {
  const plot = plotArea(width, height, style);
  const lo = spot * (1 - range);
  const hi = spot * (1 + range);
  const x = linear(lo, hi, plot.x, plot.x + plot.w);
  const ys = linear(y.domain[0], y.domain[1], plot.y + plot.h, plot.y);
  const chars = Math.max(fmtStrike(lo).length, fmtStrike(hi).length);
  return {
    width, height, plot, x, y: ys, xInv: linear(plot.x, plot.x + plot.w, lo, hi),
    xTicks: xTicksOf(fittedTicks(lo, hi, plot.w, chars, style.fontSize), x, fmtStrike, width, style.fontSize),
    yTicks: y.ticks.map((v) => ({ at: ys(v), label: fmtUsd(v) })),
  };
}

const ExposureView = memo(function ExposureView({ r, range, style, series, coin }: { r: ResultMessage | null; range: number; style: ChartStyle; series: ExposureSeries; coin: string }) {
  const g = r?.gex ?? null;
  const rows = useMemo(() => (g ? exposureRows(g, range, series) : []), [g, range, series]);
  const bars = useMemo<BarRows>(() => {
    const x = Float64Array.from(rows, (w) => w.strike);
    return { x, parts: [{ values: Float64Array.from(rows, (w) => Math.max(0, w.usd)), fill: C.call }, { values: Float64Array.from(rows, (w) => Math.min(0, w.usd)), fill: C.put }] };
  }, [rows]);
  const y = useMemo(() => niceSymmetric(rows.map((w) => w.usd)), [rows]);
  const spot = g?.spot ?? NaN;
  const frame = useCallback((w: number, h: number) => strikeFrame(w, h, style, spot, range, y), [style, spot, range, y]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    const sf = f as StrikeFrame;
    drawGrid(ctx, f);
    drawYMark(ctx, f.plot, sf.y(0), C.axisLine);
    drawBars(ctx, f.plot, sf.x, sf.y, bars);
    drawXMark(ctx, f.plot, sf.x(spot), style, C.spot, { width: style.lineWidth, label: { text: `spot ${fmtSpot(spot)}`, row: 0 } });
  }, [bars, spot, style]);
  const text = EXPOSURE_TEXT[series];
  const tip = useCallback((f: ChartFrame, px: number) => {
    const i = nearestIndex(bars.x, (f as StrikeFrame).xInv(px));
    const row = rows[i];
    if (!row) return null;
    return (
      <Tip
        title={`Strike ${fmtStrike(row.strike)}`}
        rows={[[`${text.name}${text.per}`, fmtCoin(row.units, coin, true), row.units >= 0 ? 'c-call' : 'c-put'], ['In USD', fmtUsd(row.usd)]]}
      />
    );
  }, [bars, rows, text, coin]);
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  return <CanvasChart style={style} frame={frame} draw={draw} tip={tip} marks={{ bars: rows.length, lines: 0 }} label={`${text.name} by strike`} />;
});

const StrikeView = memo(function StrikeView({ r, range, style, priors }: { r: ResultMessage | null; range: number; style: ChartStyle; priors: Prior[] }) {
  const g = r?.gex ?? null;
  const rows = useMemo(() => (g ? strikeRows(g, range) : []), [g, range]);
  const bars = useMemo<BarRows>(() => ({
    x: Float64Array.from(rows, (w) => w.strike),
    parts: [{ values: Float64Array.from(rows, (w) => w.call), fill: C.call }, { values: Float64Array.from(rows, (w) => w.put), fill: C.put }],
  }), [rows]);
  /** Each prior's net GEX at the rows' strikes (NaN where that minute did not list the strike). */
  const priorNets = useMemo(() => priors.map((p) => ({ minutes: p.minutes, nets: Float64Array.from(rows, (w) => netAt(p.sample, w.strike) ?? NaN) })), [priors, rows]);
  const y = useMemo(() => {
    const vals: number[] = [];
    // Stacked by sign: the tallest bar is the sum of the same-signed parts.
    for (const w of rows) {
      vals.push(Math.max(0, w.call) + Math.max(0, w.put), Math.min(0, w.call) + Math.min(0, w.put), w.net);
      if (w.classicNet !== null) vals.push(w.classicNet);
    }
    for (const p of priorNets) for (const v of p.nets) if (Number.isFinite(v)) vals.push(v);
    return niceSymmetric(vals);
  }, [rows, priorNets]);
  const spot = g?.spot ?? NaN;
  const ghost = rows.length > 0 && rows[0].classicNet !== null;
  const frame = useCallback((w: number, h: number) => strikeFrame(w, h, style, spot, range, y), [style, spot, range, y]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    if (!g) return;
    const sf = f as StrikeFrame;
    const plot = f.plot;
    drawGrid(ctx, f);
    drawYMark(ctx, plot, sf.y(0), C.axisLine);
    const xs = Float64Array.from(bars.x, sf.x);
    // The flow model's ghost: each strike's classic net GEX as an outlined bar beside the flow bar.
    if (ghost) drawGhost(ctx, plot, xs, Float64Array.from(rows, (w) => sf.y(w.classicNet ?? 0)), sf.y(0), style);
    const barWidth = drawBars(ctx, plot, sf.x, sf.y, bars, ghost ? 3 : 1);
    drawLine(ctx, plot, xs, Float64Array.from(rows, (w) => sf.y(w.net)), C.net, style.lineWidth);
    // Priors: a short dash per strike at its net GEX that many minutes ago.
    const half = Math.max(2, barWidth / 2 + 1);
    for (const p of priorNets) {
      const st = PRIOR_STYLE[p.minutes];
      ctx.strokeStyle = st.color;
      ctx.lineWidth = Math.max(1.5, style.lineWidth * 0.75);
      ctx.setLineDash(st.dash);
      ctx.beginPath();
      for (let i = 0; i < xs.length; i++) {
        const v = p.nets[i];
        if (!Number.isFinite(v)) continue;
        const py = sf.y(v);
        if (py < plot.y || py > plot.y + plot.h) continue;
        ctx.moveTo(xs[i] - half, py);
        ctx.lineTo(xs[i] + half, py);
      }
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const inRange = (v: number | null): v is number => v !== null && v >= sf.xInv(plot.x) && v <= sf.xInv(plot.x + plot.w);
    drawXMark(ctx, plot, sf.x(g.spot), style, C.spot, { width: style.lineWidth, label: { text: `spot ${fmtSpot(g.spot)}`, row: 0 } });
    if (inRange(g.zeroGammaLevel)) drawXMark(ctx, plot, sf.x(g.zeroGammaLevel), style, C.zero, { width: style.lineWidth, dash: [6, 4], label: { text: `zero γ ${fmtLevel(g.zeroGammaLevel)}`, row: 1 } });
    if (inRange(g.callWall)) drawXMark(ctx, plot, sf.x(g.callWall), style, C.callWall, { dash: [2, 4], label: { text: `call wall ${fmtStrike(g.callWall)}`, row: 2 } });
    if (inRange(g.putWall)) drawXMark(ctx, plot, sf.x(g.putWall), style, C.putWall, { dash: [2, 4], label: { text: `put wall ${fmtStrike(g.putWall)}`, row: 3 } });
  }, [g, bars, rows, priorNets, style, ghost]);
  const tip = useCallback((f: ChartFrame, px: number) => {
    const i = nearestIndex(bars.x, (f as StrikeFrame).xInv(px));
    const row = rows[i];
    if (!row) return null;
    const lines: [string, string, string?][] = [
      ['Call $gamma / 1%', fmtUsd(row.call), 'c-call'],
      ['Put $gamma / 1%', fmtUsd(row.put), 'c-put'],
      ['Net dealer', fmtUsd(row.net)],
      ['Net (exact)', `${Math.round(row.net).toLocaleString('en-US')} USD`],
    ];
    if (row.classicNet !== null) lines.push(['Net if classic (ghost)', fmtUsd(row.classicNet)]);
    for (const p of priorNets) lines.push([`Net ${p.minutes} min ago`, fmtUsd(p.nets[i])]);
    return <Tip title={`Strike ${fmtStrike(row.strike)}`} rows={lines} />;
  }, [bars, rows, priorNets]);
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  return (
    <CanvasChart style={style} frame={frame} draw={draw} tip={tip} label={ghost ? 'Dealer gamma by strike, flow estimate with the classic figure as a ghost' : 'Dealer gamma by strike'}
      marks={{ bars: rows.length, lines: 1 + priorNets.length, ghosts: ghost ? rows.length : 0 }} />
  );
});
