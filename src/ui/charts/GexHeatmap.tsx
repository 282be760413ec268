/**
 * GEX over time: net dealer dollar gamma by strike (rows, by price) and minute (columns, venue time)
 * for the series' last 24 hours, with spot and zero gamma over it. Drawn from the history's minute
 * samples into one image (a pixel a minute across, a row a pixel of price), rebuilt when a minute is
 * added or the size changes, then scaled onto the plot: the cells are never DOM. A click picks that
 * minute for the other views (the scrubber).
 */
import { memo, useCallback, useMemo } from 'react';
import { useGex } from '../../state/react.ts';
import { MINUTE_MS, netAt, sampleAt, type MinuteSample } from '../../state/minutes.ts';
import type { GexState } from '../../state/store.ts';
import { C } from '../colors.ts';
import { bandValueAt, heatColour } from '../data.ts';
import { fmtLevel, fmtSpot, fmtStrike, fmtTimeUtc, fmtUsd } from '../format.ts';
import { CanvasChart, drawLine, drawXMark, linear, plotArea, xTicksOf, type ChartFrame } from './canvas.tsx';
import { useChartStyle, type ChartStyle } from './style.ts';
import { fittedTicks, timeTicks } from './ticks.ts';
import { Tip } from './Tip.tsx';

const selectMinutes = (s: GexState) => s.minutes;
/** Rows of the image: more than a panel shows is wasted work. */
const MAX_ROWS = 360;

export const GexHeatmap = memo(function GexHeatmap() {
  const minutes = useGex(selectMinutes);
  const range = useGex((s) => s.view.profileRange);
  const pastT = useGex((s) => s.past?.t ?? null);
  const kept = useGex((s) => s.historyKept);
  const showPast = useGex((s) => s.actions.showPast);
  const style = useChartStyle();
  if (minutes.length < 1) {
    return <div className="empty">{kept === null ? 'Reading the stored history…' : 'Collecting GEX each minute (the first column comes with the next result)…'}</div>;
  }
  return <HeatmapView minutes={minutes} range={range} pastT={pastT} style={style} onPick={showPast} />;
});

interface HeatFrame extends ChartFrame {
  x: (t: number) => number;
  tInv: (px: number) => number;
  y: (price: number) => number;
  priceInv: (py: number) => number;
}

const shortTime = (t: number) => fmtTimeUtc(t).slice(0, 5);

const HeatmapView = memo(function HeatmapView({ minutes, range, pastT, style, onPick }: {
  minutes: MinuteSample[]; range: number; pastT: number | null; style: ChartStyle; onPick: (t: number | null) => void;
}) {
  const t0 = minutes[0].t;
  const t1 = minutes[minutes.length - 1].t + MINUTE_MS;
  // Prices: where spot went over the window, and the strike window around it.
  const [lo, hi, scale] = useMemo(() => {
    let a = Infinity;
    let b = -Infinity;
    for (const s of minutes) {
      a = Math.min(a, s.spot);
      b = Math.max(b, s.spot);
    }
    const plo = a * (1 - range);
    const phi = b * (1 + range);
    let m = 0;
    for (const s of minutes) {
      for (let k = 0; k < s.strikes.length; k++) {
        if (s.strikes[k] < plo || s.strikes[k] > phi) continue;
        m = Math.max(m, Math.abs(s.callGex[k] + s.putGex[k]));
      }
    }
    return [plo, phi, m];
  }, [minutes, range]);

  const frame = useCallback((width: number, height: number): HeatFrame => {
    const plot = plotArea(width, height, style);
    const x = linear(t0, t1, plot.x, plot.x + plot.w);
    const y = linear(lo, hi, plot.y + plot.h, plot.y);
    const tt = timeTicks(t0, t1, plot.w, style.fontSize);
    const chars = Math.max(fmtStrike(lo).length, fmtStrike(hi).length);
    return {
      width, height, plot, x, y, tInv: linear(plot.x, plot.x + plot.w, t0, t1), priceInv: linear(plot.y + plot.h, plot.y, lo, hi),
      xTicks: xTicksOf(tt.ticks, x, shortTime, width, style.fontSize),
      yTicks: fittedTicks(lo, hi, plot.h, Math.max(1, chars - 3), style.fontSize, 6).map((v) => ({ at: y(v), label: fmtStrike(v) })),
    };
  }, [style, t0, t1, lo, hi]);

  // The image: a column a minute, a row per pixel of the plot's height (at most MAX_ROWS); rebuilt
  // when the samples, the prices or the plot's height change.
  const imageFor = useMemo(() => {
    let cached: { rows: number; img: HTMLCanvasElement | null } | null = null;
    return (rows: number) => {
      if (cached?.rows !== rows) cached = { rows, img: buildImage(minutes, t0, t1, lo, hi, scale, rows) };
      return cached.img;
    };
  }, [minutes, t0, t1, lo, hi, scale]);

  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    const hf = f as HeatFrame;
    const plot = f.plot;
    const img = imageFor(Math.min(MAX_ROWS, Math.max(1, Math.round(plot.h))));
    ctx.fillStyle = '#0d1218';
    ctx.fillRect(plot.x, plot.y, plot.w, plot.h);
    if (img) {
      // Several minutes to a pixel on a narrow panel: averaged; fewer: each minute a block.
      ctx.imageSmoothingEnabled = img.width > plot.w;
      ctx.drawImage(img, plot.x, plot.y, plot.w, plot.h);
    }
    const xs = Float64Array.from(minutes, (s) => hf.x(s.t + MINUTE_MS / 2));
    drawLine(ctx, plot, xs, Float64Array.from(minutes, (s) => hf.y(s.spot)), C.spot, style.lineWidth);
    drawLine(ctx, plot, xs, Float64Array.from(minutes, (s) => (s.zeroGamma === null ? NaN : hf.y(s.zeroGamma))), C.zero, style.lineWidth, [5, 3]);
    if (pastT !== null) drawXMark(ctx, plot, hf.x(pastT + MINUTE_MS / 2), style, C.past, { width: style.lineWidth, label: { text: `past ${shortTime(pastT)}`, row: 0 } });
  }, [imageFor, minutes, pastT, style]);

  const sampleUnder = useCallback((f: ChartFrame, px: number) => {
    const t = Math.floor((f as HeatFrame).tInv(px) / MINUTE_MS) * MINUTE_MS;
    return sampleAt(minutes, t);
  }, [minutes]);
  const tip = useCallback((f: ChartFrame, px: number, py: number) => {
    const s = sampleUnder(f, px);
    if (!s) return null;
    const price = (f as HeatFrame).priceInv(py);
    let k = 0;
    for (let i = 1; i < s.strikes.length; i++) if (Math.abs(s.strikes[i] - price) < Math.abs(s.strikes[k] - price)) k = i;
    const strike = s.strikes[k];
    return (
      <Tip
        title={`${fmtTimeUtc(s.t).slice(0, 5)} UTC${s.t === minutes[minutes.length - 1].t ? ' (this minute)' : ''}`}
        rows={[
          [`Net GEX at ${fmtStrike(strike)}`, fmtUsd(netAt(s, strike))],
          ['Spot', fmtSpot(s.spot), 'c-spot'],
          ['Zero gamma', s.zeroGamma === null ? 'none in range' : fmtLevel(s.zeroGamma), 'c-zero'],
          ['Click', 'show this minute'],
        ]}
      />
    );
  }, [sampleUnder, minutes]);
  const pick = useCallback((f: ChartFrame, px: number) => {
    const s = sampleUnder(f, px);
    if (s) onPick(s.t === minutes[minutes.length - 1].t ? null : s.t);
  }, [sampleUnder, onPick, minutes]);
  return (
    <>
      {/* The minutes drawn, for tests and tools: first and last (venue time) and how many (no gap: count = span + 1). */}
      <span hidden data-testid="heatmap-minutes" data-first={t0} data-last={t1 - MINUTE_MS} data-count={minutes.length} />
      <CanvasChart style={style} frame={frame} draw={draw} tip={tip} onPick={pick} label="Net GEX by strike and minute, with spot and zero gamma"
        marks={{ cells: minutes.length, lines: 2 }} />
    </>
  );
});

/**
 * The heatmap's image: a column a minute from t0 to t1, `rows` rows of price from hi down to lo, each
 * pixel the net GEX of the strike band holding its price that minute (data.ts: bandValueAt, heatColour).
 */
function buildImage(minutes: readonly MinuteSample[], t0: number, t1: number, lo: number, hi: number, scale: number, rows: number): HTMLCanvasElement | null {
  const cols = Math.round((t1 - t0) / MINUTE_MS);
  if (cols <= 0 || rows <= 0 || typeof document === 'undefined') return null;
  const img = new ImageData(cols, rows);
  const px = img.data;
  for (const s of minutes) {
    const c = Math.round((s.t - t0) / MINUTE_MS);
    if (c < 0 || c >= cols) continue;
    const net = new Float64Array(s.strikes.length);
    for (let k = 0; k < net.length; k++) net[k] = s.callGex[k] + s.putGex[k];
    for (let r = 0; r < rows; r++) {
      const price = hi - ((r + 0.5) / rows) * (hi - lo);
      const [cr, cg, cb, ca] = heatColour(bandValueAt(s.strikes, net, price), scale);
      if (ca === 0) continue;
      const o = (r * cols + c) * 4;
      px[o] = cr;
      px[o + 1] = cg;
      px[o + 2] = cb;
      px[o + 3] = ca;
    }
  }
  const canvas = document.createElement('canvas');
  canvas.width = cols;
  canvas.height = rows;
  canvas.getContext('2d')?.putImageData(img, 0, 0);
  return canvas;
}
