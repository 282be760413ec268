/**
 * Charts drawn on a canvas: what redraws on every result (bars by strike, the profile, the flows) and
 * what SVG cannot draw cheaply (heatmaps of thousands of cells). A redraw is one pass of canvas calls
 * with no per-mark DOM, where recharts re-ran its selector store and re-rendered a node per bar
 * (~20 ms a chart per result here). The axis labels stay HTML (`.axis-tick`): few, measurable by the
 * layout tests, and read by a screen reader; the PNG export paints them back onto the image.
 */
import { memo, useCallback, useLayoutEffect, useMemo, useRef, useState, type CSSProperties, type ReactNode } from 'react';
import { C } from '../colors.ts';
import type { ChartStyle } from './style.ts';
import { categoryStride } from './ticks.ts';

/** The UI's font (theme.css --font), for text painted on a canvas. */
export const FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif";

export interface Plot {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** A label on an axis, at a pixel position along it (x: from the left, y: from the top). */
export interface AxisTick {
  at: number;
  label: string;
}

/** Where things are for one size: the plot area, its axes' ticks (with grid lines at the y ticks). */
export interface ChartFrame {
  width: number;
  height: number;
  plot: Plot;
  xTicks: AxisTick[];
  yTicks: AxisTick[];
}

/** Linear map of [d0, d1] onto [r0, r1] (reversed ranges for a y axis). */
export function linear(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
  return (v) => r0 + (v - d0) * k;
}

/** The plot area of a chart `width` x `height` with a y axis on the left and x labels below. */
export function plotArea(width: number, height: number, s: ChartStyle): Plot {
  const x = s.margin.left + s.yAxisWidth;
  const y = s.margin.top;
  return { x, y, w: Math.max(0, width - x - s.margin.right), h: Math.max(0, height - y - s.margin.bottom - s.xAxisHeight) };
}

/** Grid lines at the y ticks and the plot's frame lines, as the charts share them. */
export function drawGrid(ctx: CanvasRenderingContext2D, f: ChartFrame): void {
  ctx.strokeStyle = C.grid;
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const t of f.yTicks) {
    const y = Math.round(t.at) + 0.5;
    ctx.moveTo(f.plot.x, y);
    ctx.lineTo(f.plot.x + f.plot.w, y);
  }
  ctx.stroke();
  ctx.strokeStyle = C.axisLine;
  ctx.beginPath();
  ctx.moveTo(f.plot.x + 0.5, f.plot.y);
  ctx.lineTo(f.plot.x + 0.5, f.plot.y + f.plot.h);
  ctx.lineTo(f.plot.x + f.plot.w, f.plot.y + f.plot.h + 0.5);
  ctx.stroke();
}

export interface MarkLabel {
  text: string;
  /** Row at the top of the plot, so nearby lines (spot, zero gamma, walls) never print on each other. */
  row: number;
}

/** A vertical line at pixel `px` with its label in its own row (flipped left near the right edge); nothing outside the plot. */
export function drawXMark(ctx: CanvasRenderingContext2D, plot: Plot, px: number, s: ChartStyle, stroke: string, opts: { width?: number; dash?: number[]; label?: MarkLabel } = {}): void {
  if (!Number.isFinite(px) || px < plot.x - 0.5 || px > plot.x + plot.w + 0.5) return;
  ctx.save();
  ctx.strokeStyle = stroke;
  ctx.lineWidth = opts.width ?? 1;
  ctx.setLineDash(opts.dash ?? []);
  ctx.beginPath();
  ctx.moveTo(px, plot.y);
  ctx.lineTo(px, plot.y + plot.h);
  ctx.stroke();
  ctx.setLineDash([]);
  const label = opts.label;
  if (label) {
    const fs = s.markFontSize;
    ctx.font = `600 ${fs}px ${FONT}`;
    const w = ctx.measureText(label.text).width;
    const flip = px + 4 + w > plot.x + plot.w;
    const y = plot.y + (label.row + 1) * (fs + 4);
    ctx.textAlign = flip ? 'right' : 'left';
    ctx.textBaseline = 'alphabetic';
    ctx.lineWidth = 3;
    ctx.strokeStyle = '#121821';
    ctx.strokeText(label.text, flip ? px - 4 : px + 4, y);
    ctx.fillStyle = stroke;
    ctx.fillText(label.text, flip ? px - 4 : px + 4, y);
  }
  ctx.restore();
}

/** A horizontal line across the plot at pixel `py` (the zero line). */
export function drawYMark(ctx: CanvasRenderingContext2D, plot: Plot, py: number, stroke: string): void {
  if (!Number.isFinite(py) || py < plot.y - 0.5 || py > plot.y + plot.h + 0.5) return;
  ctx.strokeStyle = stroke;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(plot.x, Math.round(py) + 0.5);
  ctx.lineTo(plot.x + plot.w, Math.round(py) + 0.5);
  ctx.stroke();
}

/** A polyline through points (NaN breaks it), clipped to the plot. */
export function drawLine(ctx: CanvasRenderingContext2D, plot: Plot, xs: ArrayLike<number>, ys: ArrayLike<number>, stroke: string, width: number, dash: number[] = []): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  ctx.strokeStyle = stroke;
  ctx.lineWidth = width;
  ctx.lineJoin = 'round';
  ctx.setLineDash(dash);
  ctx.beginPath();
  let pen = false;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i];
    const y = ys[i];
    if (!Number.isFinite(x) || !Number.isFinite(y)) {
      pen = false;
      continue;
    }
    if (pen) ctx.lineTo(x, y);
    else ctx.moveTo(x, y);
    pen = true;
  }
  ctx.stroke();
  ctx.restore();
}


/** Ticks at `values` mapped by `scale`, labelled by `fmt`; those whose label would leave [0, width] are left out. */
export function xTicksOf(values: readonly number[], scale: (v: number) => number, fmt: (v: number) => string, width: number, fontSize: number): AxisTick[] {
  const out: AxisTick[] = [];
  for (const v of values) {
    const at = scale(v);
    const label = fmt(v);
    const half = (label.length * fontSize * 0.64) / 2;
    if (!Number.isFinite(at) || at - half < 0 || at + half > width) continue;
    out.push({ at, label });
  }
  return out;
}

/**
 * The top of a y label's box centred on `at`, moved just enough to stay in a chart `height` tall. The box
 * is `fontSize` tall (`.axis-tick` has line-height 1), so this is exact at any type size; a label on the
 * plot's top or bottom grid line sits on it unless that would cross the chart's edge.
 */
export function yLabelTop(at: number, fontSize: number, height: number): number {
  return Math.max(0, Math.min(height - fontSize, at - fontSize / 2));
}

/** The top of the x labels' boxes: 5 px under the plot, and never below the chart's bottom edge. */
export const xLabelTop = (f: ChartFrame, fontSize: number) => Math.min(f.plot.y + f.plot.h + 5, f.height - fontSize);

/** Category labels under bands of a plot, every `stride`-th (the first kept). */
export function categoryTicks(labels: readonly string[], plot: Plot, stride: number): AxisTick[] {
  const band = plot.w / Math.max(1, labels.length);
  const out: AxisTick[] = [];
  for (let i = 0; i < labels.length; i += Math.max(1, stride)) out.push({ at: plot.x + band * (i + 0.5), label: labels[i] });
  return out;
}

/** A chart of categories (one band each) against a value axis: the bars of flows, of expiries. */
export interface BandFrame extends ChartFrame {
  /** Width of one category's band. */
  band: number;
  y: (v: number) => number;
}

/**
 * The frame of category `labels` (every n-th labelled, as many as fit, `keepIndex` always) against a
 * y domain with its ticks labelled by `fmt`.
 */
export function bandFrame(width: number, height: number, s: ChartStyle, labels: readonly string[], y: { domain: [number, number]; ticks: number[] }, fmt: (v: number) => string, keepIndex = 0): BandFrame {
  const plot = plotArea(width, height, s);
  const ys = linear(y.domain[0], y.domain[1], plot.y + plot.h, plot.y);
  const stride = categoryStride(labels.length, plot.w, Math.max(0, ...labels.map((l) => l.length)), s.fontSize, keepIndex);
  return {
    width, height, plot, y: ys, band: plot.w / Math.max(1, labels.length),
    xTicks: categoryTicks(labels, plot, stride),
    yTicks: y.ticks.map((v) => ({ at: ys(v), label: fmt(v) })),
  };
}

/** The band (category) under pixel `px`. */
export const bandAt = (f: ChartFrame, px: number) => Math.floor((px - f.plot.x) / (f as BandFrame).band);

export interface CanvasChartProps {
  style: ChartStyle;
  /** Where things are at a size (pure; memoise it on the data). */
  frame: (width: number, height: number) => ChartFrame;
  /** Paints the chart (the canvas is cleared and scaled to CSS pixels). */
  draw: (ctx: CanvasRenderingContext2D, frame: ChartFrame) => void;
  /** The tooltip for the pointer at (x, y) in CSS pixels, or null. */
  tip?: (frame: ChartFrame, x: number, y: number) => ReactNode | null;
  onPick?: (frame: ChartFrame, x: number, y: number) => void;
  /** Bars and lines drawn (data attributes, for tests and tools that count marks). */
  marks?: { bars?: number; lines?: number; cells?: number; ghosts?: number };
  /** Says what the chart shows to a screen reader. */
  label: string;
}

/**
 * A chart filling its container: a canvas sized to it (device pixels), HTML axis labels, a tooltip that
 * follows the pointer (a tap on a phone), an optional click (`onPick`).
 */
export const CanvasChart = memo(function CanvasChart({ style, frame, draw, tip, onPick, marks, label }: CanvasChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const [size, setSize] = useState<{ w: number; h: number } | null>(null);
  const [pointer, setPointer] = useState<{ x: number; y: number } | null>(null);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const measure = () => {
      const r = el.getBoundingClientRect();
      const w = Math.floor(r.width);
      const h = Math.floor(r.height);
      setSize((s) => (s && s.w === w && s.h === h ? s : { w, h }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const f = useMemo(() => (size && size.w > 0 && size.h > 0 ? frame(size.w, size.h) : null), [frame, size]);

  useLayoutEffect(() => {
    const c = canvas.current;
    if (!c || !f) return;
    const dpr = window.devicePixelRatio || 1;
    const w = Math.round(f.width * dpr);
    const h = Math.round(f.height * dpr);
    if (c.width !== w || c.height !== h) {
      c.width = w;
      c.height = h;
    }
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, f.width, f.height);
    draw(ctx, f);
  }, [f, draw]);

  const at = useCallback((e: { clientX: number; clientY: number }) => {
    const r = box.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  }, []);
  const tipNode = f && pointer && tip ? tip(f, pointer.x, pointer.y) : null;
  const fs = style.fontSize;
  return (
    <div ref={box} className="canvas-chart" role="img" aria-label={label}
      data-bars={marks?.bars} data-lines={marks?.lines} data-cells={marks?.cells} data-ghosts={marks?.ghosts}
      onPointerMove={tip ? (e) => setPointer(at(e)) : undefined}
      onPointerDown={tip ? (e) => setPointer(at(e)) : undefined}
      // A finger lifted leaves the chart at once: its tip stays until the next tap.
      onPointerLeave={tip ? (e) => e.pointerType !== 'touch' && setPointer(null) : undefined}
      onClick={onPick && f ? (e) => { const p = at(e); onPick(f, p.x, p.y); } : undefined}
      style={{ cursor: onPick ? 'pointer' : undefined }}>
      <canvas ref={canvas} style={{ width: f?.width ?? 0, height: f?.height ?? 0 }} />
      {f && f.xTicks.map((t, i) => Number.isFinite(t.at) && (
        <span key={`x${i}`} className="axis-tick" data-axis="x" style={{ left: t.at, top: xLabelTop(f, fs), fontSize: fs, transform: 'translateX(-50%)' }}>{t.label}</span>
      ))}
      {f && f.yTicks.map((t, i) => Number.isFinite(t.at) && (
        <span key={`y${i}`} className="axis-tick" data-axis="y" style={{ right: f.width - f.plot.x + 5, top: yLabelTop(t.at, fs, f.height), fontSize: fs }}>{t.label}</span>
      ))}
      {f && pointer && tipNode && (
        <div className="tip-wrap" style={tipPosition(f, pointer)}>{tipNode}</div>
      )}
    </div>
  );
});

/** The tooltip beside the pointer, on the side with more room. */
function tipPosition(f: ChartFrame, p: { x: number; y: number }): CSSProperties {
  const right = p.x < f.width / 2;
  const below = p.y < f.height / 2;
  return {
    left: right ? p.x + 12 : undefined,
    right: right ? undefined : f.width - p.x + 12,
    top: below ? p.y + 8 : undefined,
    bottom: below ? undefined : f.height - p.y + 8,
  };
}

/** Index of the value nearest `v` in an ascending list, or -1 when empty. */
export function nearestIndex(values: ArrayLike<number>, v: number): number {
  const n = values.length;
  if (n === 0 || !Number.isFinite(v)) return -1;
  let lo = 0;
  let hi = n - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (values[mid] < v) lo = mid;
    else hi = mid;
  }
  return Math.abs(values[lo] - v) <= Math.abs(values[hi] - v) ? lo : hi;
}
