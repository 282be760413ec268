import { memo, useCallback, useMemo } from 'react';
import { Bar, CartesianGrid, ComposedChart, ResponsiveContainer, Tooltip, XAxis, YAxis, type BarShapeProps } from 'recharts';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { C } from '../colors.ts';
import { flowRows, niceSymmetric, perpBasis, summedDepth, type FlowRow } from '../data.ts';
import { fmtCoin, fmtFunding, fmtPct, fmtSignedPct, fmtSignedUsd, fmtSpot, fmtUsd } from '../format.ts';
import { YMark, barShape } from './marks.tsx';
import { selectResult, usePacedGex } from './pace.ts';
import { plotWidth, useChartStyle, useChartWidth, type ChartStyle } from './style.ts';
import { categoryStride } from './ticks.ts';
import { BAR_CURSOR, Tip, tipRow, type TipProps } from './Tip.tsx';

function flowTip(props: TipProps, coin: string, spot: number) {
  const r = tipRow<FlowRow>(props);
  if (!r) return null;
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

/** Flow bars coloured by side: dealers buy (up) or sell. */
function flowShape(p: BarShapeProps) {
  const usd = (p.payload as FlowRow | undefined)?.usd ?? 0;
  return barShape({ ...p, fill: usd >= 0 ? C.buy : C.sell });
}

/** What dealers must buy/sell for -10 %..+10 % moves, against the perp's book depth and funding. */
export const HedgeFlowChart = memo(function HedgeFlowChart() {
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const r = usePacedGex(selectResult);
  const coin = useGex((s) => s.view.currency);
  const style = useChartStyle();
  return <FlowView r={r} coin={coin} style={style} />;
});

const FlowView = memo(function FlowView({ r, coin, style }: { r: ResultMessage | null; coin: string; style: ChartStyle }) {
  const [width, onResize] = useChartWidth();
  const g = r?.gex ?? null;
  const perps = r?.perps ?? null;
  const perp = perps?.[0];
  const depth = useMemo(() => summedDepth(perps ?? []), [perps]);
  const rows = useMemo(() => (g ? flowRows(g, depth.bands) : []), [g, depth]);
  const y = useMemo(() => niceSymmetric(rows.flatMap((r) => [r.usd, r.depthUsd ?? 0])), [rows]);
  const spot = g?.spot ?? NaN;
  const tip = useCallback((p: TipProps) => flowTip(p, coin, spot), [coin, spot]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  const basis = perpBasis(perp);
  // Every n-th move labelled, as many as fit, always including 0 %.
  const zeroAt = Math.max(0, rows.findIndex((r) => r.move === 0));
  const stride = categoryStride(rows.length, plotWidth(width, style), Math.max(...rows.map((r) => r.label.length)), style.fontSize, zeroAt);
  const bands = depth.bands;
  const ratioAt = (pct: number, up: boolean) => rows.find((r) => Math.abs(r.move * 100 - (up ? pct : -pct)) < 1e-6)?.ratio ?? null;
  return (
    <div className="flow-wrap">
      <div className="chart-body" data-testid="chart-hedge-flow">
        <ResponsiveContainer width="100%" height="100%" onResize={onResize}>
          <ComposedChart data={rows} margin={style.margin} barGap={1}>
            <CartesianGrid stroke={C.grid} vertical={false} />
            <XAxis height={style.xAxisHeight} dataKey="label" tick={style.tick} stroke={C.axisLine} interval={stride - 1} />
            <YAxis tickFormatter={fmtUsd} tick={style.tick} stroke={C.axisLine} width={style.yAxisWidth} domain={y.domain} ticks={y.ticks} />
            <Tooltip content={tip} cursor={BAR_CURSOR} isAnimationActive={false} />
            <YMark y={0} stroke={C.axis} />
            <Bar dataKey="usd" isAnimationActive={false} shape={flowShape} />
            <Bar dataKey="depthUsd" fill={C.depth} isAnimationActive={false} shape={barShape} />
          </ComposedChart>
        </ResponsiveContainer>
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
