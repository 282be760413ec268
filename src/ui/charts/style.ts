/**
 * Type, axis and margin sizes of the charts: 11 px type on desks and phones, and on a wall display
 * 16 px times the kiosk scale (32 px on 4K), so a wall reads the same from across a room at any size.
 */
import { useCallback, useState } from 'react';
import { useGex } from '../../state/react.ts';
import { useViewport } from '../layout/viewport.ts';
import { yAxisWidthPx } from './ticks.ts';

interface Margin {
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export interface ChartStyle {
  fontSize: number;
  /** Labels of the spot / zero gamma / wall lines. */
  markFontSize: number;
  /** Width of the line series (net dealer, profile, history). */
  lineWidth: number;
  /** Room for "-$40.0M" at this type size. */
  yAxisWidth: number;
  /** Room below the plot for the x labels (30 px clips them at a wall's size). */
  xAxisHeight: number;
  margin: Margin;
}

const styles = new Map<number, ChartStyle>();

/** The style at type scale `scale` (0 for the desk/phone style). */
export function chartStyle(kiosk: boolean, scale: number): ChartStyle {
  const key = kiosk ? scale : 0;
  let s = styles.get(key);
  if (!s) {
    const k = kiosk ? scale : 1;
    const fontSize = kiosk ? Math.round(16 * k) : 11;
    s = {
      fontSize,
      markFontSize: kiosk ? Math.round(15 * k) : 11,
      lineWidth: kiosk ? Math.max(2, Math.round(2 * k)) : 2,
      yAxisWidth: yAxisWidthPx(7, fontSize),
      xAxisHeight: Math.max(30, Math.round(fontSize * 1.25 + 10)),
      // The right margin leaves room for half of the last x label ("+10%", "95,000").
      margin: { top: Math.round(8 * k), right: Math.round((kiosk ? 22 : 16) * k), bottom: Math.round(2 * k), left: Math.round(4 * k) },
    };
    styles.set(key, s);
  }
  return s;
}

/** This page's chart style (kiosk or not, at the wall display's scale). */
export function useChartStyle(): ChartStyle {
  const kiosk = useGex((s) => s.view.kiosk);
  const { scale } = useViewport();
  return chartStyle(kiosk, scale);
}

/**
 * The width of a chart's container, from its ResponsiveContainer's `onResize` (0 until measured): the
 * axes pick how many ticks fit from it.
 */
export function useChartWidth(): [number, (width: number) => void] {
  const [width, setWidth] = useState(0);
  const onResize = useCallback((w: number) => setWidth(Math.round(w)), []);
  return [width, onResize];
}

/** The plot's width inside a chart `width` wide with a y axis on the left. */
export const plotWidth = (width: number, s: ChartStyle) => Math.max(0, width - s.yAxisWidth - s.margin.left - s.margin.right);
