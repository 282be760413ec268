import { memo, useCallback, useMemo } from 'react';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { C } from '../colors.ts';
import { flowRows, niceSymmetric, perpBasis, summedDepth, type FlowRow } from '../data.ts';
import { fmtCoin, fmtFunding, fmtPct, fmtSignedPct, fmtSignedUsd, fmtSpot, fmtUsd } from '../format.ts';
import { CanvasChart, bandAt, bandFrame, drawGrid, drawYMark, type BandFrame, type ChartFrame } from './canvas.tsx';
import { PAST_NOTE } from './GammaProfileChart.tsx';
import { selectShown, usePacedGex } from './pace.ts';
import { useChartStyle, type ChartStyle } from './style.ts';
import { Tip } from './Tip.tsx';

function flowTip(r: FlowRow, coin: string, spot: number) {
  const side = r.units > 0 ? 'BUY' : r.units < 0 ? 'SELL' : '—';
  return (
    <Tip
      title={`Move ${r.label} → ${fmtSpot(spot * (1 + r.move))}`}
      rows={[
        ['Dealers', side, r.units >= 0 ? 'c-call' : 'c-put'],
        ['Flow', fmtCoin(r.units, coin, true)],
        ['Flow USD', fmtSignedUsd(r.usd)],
        ['Perp depth (same band)', r.depthCoin === null ? 'unknown' : fmtCoin(r.depthCoin, coin)],
        ['Flow / depth', r.ratio === null ? '—' : `${r.ratio.toFixed(2)}x`],
      ]}
    />
  );
}

/** What dealers must buy/sell for -10 %..+10 % moves, against the perp's book depth and funding. */
export const HedgeFlowChart = memo(function HedgeFlowChart() {
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const r = usePacedGex(selectShown);
  const past = useGex((s) => s.past !== null);
  const coin = useGex((s) => s.view.currency);
  const style = useChartStyle();
  if (past) return <div className="empty">{PAST_NOTE}</div>;
  return <FlowView r={r} coin={coin} style={style} />;
});


const FlowView = memo(function FlowView({ r, coin, style }: { r: ResultMessage | null; coin: string; style: ChartStyle }) {
  const g = r?.gex ?? null;
  const perps = r?.perps ?? null;
  const perp = perps?.[0];
  const depth = useMemo(() => summedDepth(perps ?? []), [perps]);
  const rows = useMemo(() => (g ? flowRows(g, depth.bands) : []), [g, depth]);
  const y = useMemo(() => niceSymmetric(rows.flatMap((r) => [r.usd, r.depthUsd ?? 0])), [rows]);
  const spot = g?.spot ?? NaN;
  // Every n-th move labelled, as many as fit, always including 0 %.
  const frame = useCallback((width: number, height: number) => bandFrame(width, height, style, rows.map((r) => r.label), y, fmtUsd, Math.max(0, rows.findIndex((r) => r.move === 0))), [style, rows, y]);
  const draw = useCallback((ctx: CanvasRenderingContext2D, f: ChartFrame) => {
    const ff = f as BandFrame;
    const plot = f.plot;
    drawGrid(ctx, f);
    // Two bars a move, as recharts groups them: the flow (buy green, sell red) and the depth beside it.
    const inner = ff.band * 0.8;
    const w = Math.max(1, (inner - 1) / 2);
    const y0 = ff.y(0);
    rows.forEach((row, i) => {
      const left = plot.x + ff.band * i + (ff.band - inner) / 2;
      const bar = (x: number, v: number | null, fill: string) => {
        if (v === null || !Number.isFinite(v) || v === 0) return;
        const yv = Math.max(plot.y, Math.min(plot.y + plot.h, ff.y(v)));
        ctx.fillStyle = fill;
        ctx.fillRect(x, Math.min(y0, yv), w, Math.abs(yv - y0));
      };
      bar(left, row.usd, row.usd >= 0 ? C.buy : C.sell);
      bar(left + w + 1, row.depthUsd, C.depth);
    });
    drawYMark(ctx, plot, y0, C.axis);
  }, [rows]);
  const tip = useCallback((f: ChartFrame, px: number) => {
    const row = rows[bandAt(f, px)];
    return row ? flowTip(row, coin, spot) : null;
  }, [rows, coin, spot]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  const basis = perpBasis(perp);
  const bands = depth.bands;
  const ratioAt = (pct: number, up: boolean) => rows.find((r) => Math.abs(r.move * 100 - (up ? pct : -pct)) < 1e-6)?.ratio ?? null;
  return (
    <div className="flow-wrap">
      <div className="chart-body" data-testid="chart-hedge-flow">
        <CanvasChart style={style} frame={frame} draw={draw} tip={tip} label="Dealer hedge flow per move, with perp depth"
          marks={{ bars: rows.length + rows.filter((r) => r.depthUsd !== null && r.depthUsd !== 0).length, lines: 0 }} />
      </div>
      <div className="perp">
        {perps && perps.length > 1 ? (
          <table data-testid="perp-venues" title="each venue's perpetual: funding per 8 h and basis to its index">
            <thead>
              <tr><th>perp</th><th>fund 8h</th><th>basis</th></tr>
            </thead>
            <tbody>
              {perps.map((p) => (
                <tr key={p.venue}>
                  <td>{p.venue}</td>
                  <td className="num">{fmtFunding(p.funding8h)}</td>
                  <td className="num">{fmtSignedPct(perpBasis(p), 3)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : (
          <>
            <div className="kv"><span>Perp</span><span>{perp?.instrument ?? '—'}</span></div>
            <div className="kv"><span>Mark</span><span className="num">{fmtSpot(perp?.markPrice)}</span></div>
            <div className="kv"><span>Funding 8h</span><span className="num">{fmtFunding(perp?.funding8h)}</span></div>
            <div className="kv"><span>Basis</span><span className="num">{fmtSignedPct(basis, 3)}</span></div>
            <div className="kv"><span>Open interest</span><span className="num">{fmtCoin(perp?.openInterestCoin, coin)}</span></div>
          </>
        )}
        <table>
          <thead>
            <tr><th>{perps && perps.length > 1 ? 'depth (sum)' : 'band'}</th><th>bids</th><th>asks</th></tr>
          </thead>
          <tbody>
            {bands.map((b) => (
              <tr key={b.bandPct}>
                <td>±{fmtPct(b.bandPct / 100, b.bandPct < 1 ? 1 : 0)}</td>
                <td className="num">{fmtCoin(b.bidCoin, '')}</td>
                <td className="num">{fmtCoin(b.askCoin, '')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {bands.length === 0 && <div className="empty">book depth unknown</div>}
        {bands.length > 0 && depth.missing.length > 0 && <div className="note">depth without {depth.missing.join(', ')}</div>}
        {bands.some((b) => b.bandPct >= 1) && (
          <table title="dealer hedge flow for the move divided by the perp book depth on the side they trade">
            <thead>
              <tr><th>flow/depth</th><th>down</th><th>up</th></tr>
            </thead>
            <tbody>
              {bands.filter((b) => b.bandPct >= 1).map((b) => (
                <tr key={b.bandPct}>
                  <td>{b.bandPct}% move</td>
                  <td className="num">{fmtRatio(ratioAt(b.bandPct, false))}</td>
                  <td className="num">{fmtRatio(ratioAt(b.bandPct, true))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
    </div>
  );
});

const fmtRatio = (r: number | null) => (r === null ? '—' : `${r.toFixed(2)}x`);
