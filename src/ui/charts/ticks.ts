/**
 * Axis ticks that thin out with the chart's width, so labels never print on each other (issue 17: the
 * hedge-flow axis read "-10%8%6%4%2%0%" in a 1280-px window). Widths are estimated from the label's
 * length: digits of the UI's sans-serif fonts are at most ~0.64 em wide (DejaVu Sans 0.636, Segoe UI
 * 0.55), so the estimate errs wide and the check in e2e/layout.spec.ts measures the real boxes.
 */
import { niceTicks } from '../data.ts';

const EM_PER_CHAR = 0.64;
/** Free space between two neighbouring labels, in characters' widths. */
const GAP_CHARS = 2;

/** Horizontal pixels one tick label of `chars` characters needs, with room to its neighbour. */
export function labelSpacingPx(chars: number, fontSize: number): number {
  return (chars + GAP_CHARS) * fontSize * EM_PER_CHAR;
}

/** The y axis width for labels up to `chars` long ("-$40.0M" is 7) at `fontSize`. */
export function yAxisWidthPx(chars: number, fontSize: number): number {
  return Math.ceil(chars * fontSize * EM_PER_CHAR + fontSize * 0.8);
}

/**
 * Round-numbered ticks in [lo, hi] for a plot `plotPx` wide whose labels are at most `chars` long:
 * as many intervals as fit (at most `max`), at least one.
 */
export function fittedTicks(lo: number, hi: number, plotPx: number, chars: number, fontSize: number, max = 10): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || !(hi > lo)) return [];
  const fit = Math.floor(plotPx / labelSpacingPx(chars, fontSize));
  return niceTicks(lo, hi, Math.max(1, Math.min(max, fit)));
}

/**
 * Show every `n`-th of `count` category labels (recharts' `interval` is n - 1), starting at the first:
 * the smallest n whose labels fit in `plotPx` and that keeps the label at `keepIndex` (the 0 % move).
 */
export function categoryStride(count: number, plotPx: number, chars: number, fontSize: number, keepIndex = 0): number {
  if (count <= 1) return 1;
  const band = plotPx / count;
  const need = labelSpacingPx(chars, fontSize);
  for (let n = 1; n < count; n++) {
    if (keepIndex % n === 0 && n * band >= need) return n;
  }
  return count;
}

/** Time-axis steps: round seconds, minutes and hours, so the labels read as a clock. */
const TIME_STEPS_MS = [10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800].map((s) => s * 1000);

/** Whether labels `step` apart need seconds ("20:28:30") or not ("20:28"). */
export const timeStepShowsSeconds = (stepMs: number) => stepMs < 60_000;

/**
 * Clock-aligned (UTC) time ticks in [t0, t1] that fit `plotPx`, and their step: labels are "20:28:30"
 * below a minute's step and "20:28" from there.
 */
export function timeTicks(t0: number, t1: number, plotPx: number, fontSize: number): { ticks: number[]; stepMs: number } {
  if (!Number.isFinite(t0) || !Number.isFinite(t1) || !(t1 > t0)) return { ticks: [], stepMs: 0 };
  const span = t1 - t0;
  const fits = (s: number) => (s / span) * plotPx >= labelSpacingPx(timeStepShowsSeconds(s) ? 8 : 5, fontSize);
  const stepMs = TIME_STEPS_MS.find(fits) ?? Math.ceil(span / 3_600_000) * 3_600_000;
  const ticks: number[] = [];
  for (let t = Math.ceil(t0 / stepMs) * stepMs; t <= t1 && ticks.length < 50; t += stepMs) ticks.push(t);
  return { ticks, stepMs };
}
