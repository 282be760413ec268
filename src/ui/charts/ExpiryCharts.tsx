/**
 * Which expiry the gamma is in: net GEX by expiry as bars (every listed expiry; those not in the view
 * as empty slots), and net GEX by strike and expiry as a heatmap. A click on an expiry selects it
 * alone (again: all expiries), and the link follows.
 */
import { memo, useCallback, useMemo } from 'react';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { expiryLabel } from '../../state/url.ts';
import { C } from '../colors.ts';
import { expiryRows, heatColour, niceSymmetric, type ExpiryRow } from '../data.ts';
import { fmtExpiryTime, fmtPct, fmtStrike, fmtUsd } from '../format.ts';
import { CanvasChart, bandAt, bandFrame, categoryTicks, drawGrid, drawYMark, linear, plotArea, type BandFrame, type ChartFrame } from './canvas.tsx';
import { PAST_NOTE } from './GammaProfileChart.tsx';
import { selectShown, usePacedGex } from './pace.ts';
import { useChartStyle, type ChartStyle } from './style.ts';
import { categoryStride, fittedTicks } from './ticks.ts';
import { Tip } from './Tip.tsx';

/** Selects `expiryMs` alone, or all expiries when it already is. */
function useExpiryPick(): (expiryMs: number) => void {
  const expiries = useGex((s) => s.view.expiries);
  const setView = useGex((s) => s.actions.setView);
  return useCallback((e: number) => setView({ expiries: expiries.length === 1 && expiries[0] === e ? [] : [e] }), [expiries, setView]);
}

export const GexByExpiryChart = memo(function GexByExpiryChart() {
  const r = usePacedGex(selectShown);
  const selected = useGex((s) => s.view.expiries);
  const style = useChartStyle();
  const pick = useExpiryPick();
  return <ByExpiryView r={r} selected={selected} style={style} onPick={pick} />;
});

const ByExpiryView = memo(function ByExpiryView({ r, selected, style, onPick }: { r: ResultMessage | null; selected: number[]; style: ChartStyle; onPick: (e: number) => void }) {
  const g = r?.gex ?? null;
  const rows = useMemo(() => (g ? expiryRows(g, r!.expiries) : []), [g, r]);
  const y = useMemo(() => niceSymmetric(rows.map((x) => x.net ?? 0)), [rows]);
  const frame = useCallback((width: number, height: number) => bandFrame(width, height, style, rows.map((x) => x.label), y, fmtUsd), [style, rows, y]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    const bf = f as BandFrame;
    const plot = f.plot;
    drawGrid(ctx, f);
    const y0 = bf.y(0);
    rows.forEach((row, i) => {
      const x = plot.x + bf.band * i + bf.band * 0.15;
      const w = Math.max(1, bf.band * 0.7);
      const chosen = selected.includes(row.expiryMs);
      if (row.net === null) {
        // Listed, not in the view: an outline a click fills.
        ctx.strokeStyle = C.axisLine;
        ctx.setLineDash([3, 3]);
        ctx.strokeRect(x + 0.5, y0 - 6.5, w - 1, 12);
        ctx.setLineDash([]);
        return;
      }
      const yv = Math.max(plot.y, Math.min(plot.y + plot.h, bf.y(row.net)));
      ctx.fillStyle = row.net >= 0 ? C.call : C.put;
      ctx.fillRect(x, Math.min(y0, yv), w, Math.abs(yv - y0));
      if (chosen) {
        ctx.strokeStyle = C.spot;
        ctx.lineWidth = 2;
        ctx.strokeRect(x - 1, Math.min(y0, yv) - 1, w + 2, Math.abs(yv - y0) + 2);
        ctx.lineWidth = 1;
      }
    });
    drawYMark(ctx, plot, y0, C.axis);
  }, [rows, selected]);
  const tip = useCallback((f: ChartFrame, px: number) => {
    const row = rows[bandAt(f, px)];
    if (!row) return null;
    return <Tip title={`${row.label} · ${fmtExpiryTime(row.expiryMs)}`} rows={[['Net GEX / 1%', row.net === null ? 'not in the view' : fmtUsd(row.net)], ['Click', selected.length === 1 && selected[0] === row.expiryMs ? 'all expiries' : 'this expiry alone']]} />;
  }, [rows, selected]);
  const pick = useCallback((f: ChartFrame, px: number) => {
    const row = rows[bandAt(f, px)];
    if (row) onPick(row.expiryMs);
  }, [rows, onPick]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  return (
    <>
      <ExpiryButtons rows={rows} selected={selected} onPick={onPick} />
      <CanvasChart style={style} frame={frame} draw={draw} tip={tip} onPick={pick} label="Net GEX by expiry; click an expiry to select it"
        marks={{ bars: rows.filter((x) => x.net !== null).length }} />
    </>
  );
});

/**
 * The same choice for keyboards, screen readers and tests: one (visually hidden) button per expiry,
 * pressed when it is in the view.
 */
function ExpiryButtons({ rows, selected, onPick }: { rows: ExpiryRow[]; selected: number[]; onPick: (e: number) => void }) {
  return (
    <span className="sr-only">
      {rows.map((x) => (
        <button key={x.expiryMs} data-testid="expiry-bar" data-label={x.label} data-net={x.net ?? ''} aria-pressed={selected.includes(x.expiryMs)} onClick={() => onPick(x.expiryMs)}>
          {x.label}
        </button>
      ))}
    </span>
  );
}

/** "next 24 h: 41% of GEX (2 expiries)": the gamma that leaves by tomorrow's 08:00. */
export function ShareNext24h({ share }: { share: { share: number; expiries: number } | null }) {
  if (!share) return null;
  return (
    <span className="sub" data-testid="gex-next-24h" title="net GEX of the expiries within the next 24 hours, in size (|net|), over that of every expiry in the view">
      next 24 h: {fmtPct(share.share, 0)} of GEX ({share.expiries} expir{share.expiries === 1 ? 'y' : 'ies'})
    </span>
  );
}

interface GridFrame extends BandFrame {
  priceInv: (py: number) => number;
}

export const StrikeExpiryChart = memo(function StrikeExpiryChart() {
  const r = usePacedGex(selectShown);
  const past = useGex((s) => s.past !== null);
  const range = useGex((s) => s.view.profileRange);
  const selected = useGex((s) => s.view.expiries);
  const style = useChartStyle();
  const pick = useExpiryPick();
  if (past) return <div className="empty">{PAST_NOTE}</div>;
  return <StrikeExpiryView r={r} range={range} selected={selected} style={style} onPick={pick} />;
});

const StrikeExpiryView = memo(function StrikeExpiryView({ r, range, selected, style, onPick }: { r: ResultMessage | null; range: number; selected: number[]; style: ChartStyle; onPick: (e: number) => void }) {
  const g = r?.gex ?? null;
  const spot = g?.spot ?? NaN;
  const lo = spot * (1 - range);
  const hi = spot * (1 + range);
  // The strikes in the window and the largest |cell| among them (the colour scale).
  const { ks, scale } = useMemo(() => {
    const out: number[] = [];
    let m = 0;
    if (g) {
      const E = g.expiries.length;
      for (let k = 0; k < g.strikes.length; k++) {
        if (g.strikes[k] < lo || g.strikes[k] > hi) continue;
        out.push(k);
        for (let e = 0; e < E; e++) m = Math.max(m, Math.abs(g.netGexByStrikeExpiry[k * E + e]));
      }
    }
    return { ks: out, scale: m };
  }, [g, lo, hi]);
  const labels = useMemo(() => (g ? Array.from(g.expiries, expiryLabel) : []), [g]);
  const frame = useCallback((width: number, height: number): GridFrame => {
    const plot = plotArea(width, height, style);
    const y = linear(lo, hi, plot.y + plot.h, plot.y);
    const stride = categoryStride(labels.length, plot.w, Math.max(0, ...labels.map((l) => l.length)), style.fontSize);
    const chars = Math.max(fmtStrike(lo).length, fmtStrike(hi).length);
    return {
      width, height, plot, y, priceInv: linear(plot.y + plot.h, plot.y, lo, hi), band: plot.w / Math.max(1, labels.length),
      xTicks: categoryTicks(labels, plot, stride),
      yTicks: fittedTicks(lo, hi, plot.h, Math.max(1, chars - 3), style.fontSize, 6).map((v) => ({ at: y(v), label: fmtStrike(v) })),
    };
  }, [style, labels, lo, hi]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    if (!g) return;
    const gf = f as GridFrame;
    const plot = f.plot;
    const E = g.expiries.length;
    ctx.fillStyle = '#0d1218';
    ctx.fillRect(plot.x, plot.y, plot.w, plot.h);
    ctx.save();
    ctx.beginPath();
    ctx.rect(plot.x, plot.y, plot.w, plot.h);
    ctx.clip();
    ks.forEach((k, j) => {
      // Each strike's band reaches halfway to its neighbours in the window.
      const K = g.strikes[k];
      const below = j > 0 ? (K - g.strikes[ks[j - 1]]) / 2 : j + 1 < ks.length ? (g.strikes[ks[j + 1]] - K) / 2 : K * 0.01;
      const above = j + 1 < ks.length ? (g.strikes[ks[j + 1]] - K) / 2 : below;
      const top = gf.y(K + above);
      const h = Math.max(1, gf.y(K - below) - top);
      for (let e = 0; e < E; e++) {
        const [cr, cg, cb, ca] = heatColour(g.netGexByStrikeExpiry[k * E + e], scale);
        if (ca === 0) continue;
        ctx.fillStyle = `rgba(${cr},${cg},${cb},${(ca / 255).toFixed(3)})`;
        ctx.fillRect(plot.x + gf.band * e + 1, top, Math.max(1, gf.band - 2), h);
      }
    });
    ctx.restore();
    for (let e = 0; e < E; e++) {
      if (!selected.includes(g.expiries[e])) continue;
      ctx.strokeStyle = C.spot;
      ctx.strokeRect(plot.x + gf.band * e + 0.5, plot.y + 0.5, gf.band - 1, plot.h - 1);
    }
    // Spot across every expiry.
    ctx.strokeStyle = C.spot;
    ctx.lineWidth = style.lineWidth;
    ctx.beginPath();
    ctx.moveTo(plot.x, gf.y(g.spot));
    ctx.lineTo(plot.x + plot.w, gf.y(g.spot));
    ctx.stroke();
    ctx.lineWidth = 1;
  }, [g, ks, scale, selected, style]);
  const tip = useCallback((f: ChartFrame, px: number, py: number) => {
    if (!g) return null;
    const e = bandAt(f, px);
    const E = g.expiries.length;
    if (e < 0 || e >= E) return null;
    const price = (f as GridFrame).priceInv(py);
    let best = -1;
    for (const k of ks) if (best < 0 || Math.abs(g.strikes[k] - price) < Math.abs(g.strikes[best] - price)) best = k;
    if (best < 0) return null;
    return <Tip title={`${labels[e]} · strike ${fmtStrike(g.strikes[best])}`} rows={[['Net GEX / 1%', fmtUsd(g.netGexByStrikeExpiry[best * E + e])], ['Click', 'select this expiry']]} />;
  }, [g, ks, labels]);
  const pick = useCallback((f: ChartFrame, px: number) => {
    const e = bandAt(f, px);
    if (g && e >= 0 && e < g.expiries.length) onPick(g.expiries[e]);
  }, [g, onPick]);
  if (!g || ks.length === 0 || labels.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  return (
    <CanvasChart style={style} frame={frame} draw={draw} tip={tip} onPick={pick} label="Net GEX by strike and expiry; click an expiry to select it"
      marks={{ cells: ks.length * labels.length }} />
  );
});
