import { memo, useDeferredValue, useMemo } from 'react';
import { CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { C } from '../colors.ts';
import { exposureRows, niceSymmetric, strikeRows, type ExposureRow, type ExposureSeries, type StrikeRow } from '../data.ts';
import { fmtCoin, fmtLevel, fmtSpot, fmtStrike, fmtUsd } from '../format.ts';
import { SignStackedBars, XMark, YMark, type BarPart } from './marks.tsx';
import { selectResult, usePacedGex } from './pace.ts';
import { plotWidth, useChartStyle, useChartWidth, type ChartStyle } from './style.ts';
import { fittedTicks } from './ticks.ts';
import { BAR_CURSOR, Tip, tipRow, type TipProps } from './Tip.tsx';

function StrikeTip(props: TipProps) {
  const r = tipRow<StrikeRow>(props);
  if (!r) return null;
  return (
    <Tip
      title={`Strike ${fmtStrike(r.strike)}`}
      rows={[
        ['Call $gamma / 1%', fmtUsd(r.call), 'c-call'],
        ['Put $gamma / 1%', fmtUsd(r.put), 'c-put'],
        ['Net dealer', fmtUsd(r.net)],
        ['Net (exact)', `${Math.round(r.net).toLocaleString('en-US')} USD`],
      ]}
    />
  );
}

/** Call and put bars, stacked by sign; drawn by SignStackedBars, not recharts' Bar (see there why). */
const STRIKE_PARTS: readonly BarPart<StrikeRow>[] = [
  { value: (r) => r.call, fill: C.call },
  { value: (r) => r.put, fill: C.put },
];
const rowStrike = (r: StrikeRow) => r.strike;

/** What each exposure means on screen (design: "Beyond gamma"): the change of dealer delta it measures. */
export const EXPOSURE_TEXT: Readonly<Record<ExposureSeries, { name: string; per: string; help: string }>> = {
  dex: { name: 'Delta exposure', per: '', help: 'dealer delta by strike: what dealers hold against their options' },
  vex: { name: 'Vanna exposure', per: ' per vol point', help: 'change of dealer delta if implied vol rises one point: dealers trade the opposite' },
  chex: { name: 'Charm exposure', per: ' per day', help: 'drift of dealer delta as a day passes: dealers trade the opposite' },
};

/**
 * By strike, window following spot: call, put and net dealer dollar gamma per 1 % move, or the
 * delta, vanna or charm exposure the view's `exposure` picks.
 */
export const GammaByStrikeChart = memo(function GammaByStrikeChart() {
  // Each result arrives in this chart's own turn (pace.ts); a changed range redraws deferred. The
  // memoised view keeps the urgent render with the old values free.
  const r = usePacedGex(selectResult);
  const range = useDeferredValue(useGex((s) => s.view.profileRange));
  const exposure = useGex((s) => s.view.exposure);
  const coin = useGex((s) => s.view.currency);
  const style = useChartStyle();
  if (exposure !== 'gex') return <ExposureView r={r} range={range} style={style} series={exposure} coin={coin} />;
  return <StrikeView r={r} range={range} style={style} />;
});

const EXPOSURE_PARTS: readonly BarPart<ExposureRow>[] = [
  { value: (r) => Math.max(0, r.usd), fill: C.call },
  { value: (r) => Math.min(0, r.usd), fill: C.put },
];
const exposureStrike = (r: ExposureRow) => r.strike;

/** One exposure per strike in USD (units in the tooltip), green where dealers are long, red short. */
const ExposureView = memo(function ExposureView({ r, range, style, series, coin }: { r: ResultMessage | null; range: number; style: ChartStyle; series: ExposureSeries; coin: string }) {
  const [width, onResize] = useChartWidth();
  const g = r?.gex ?? null;
  const rows = useMemo(() => (g ? exposureRows(g, range, series) : []), [g, range, series]);
  const y = useMemo(() => niceSymmetric(rows.map((r) => r.usd)), [rows]);
  const spot = g?.spot ?? NaN;
  const plot = plotWidth(width, style);
  const x = useMemo(() => {
    const lo = spot * (1 - range);
    const hi = spot * (1 + range);
    const chars = Math.max(fmtStrike(lo).length, fmtStrike(hi).length);
    return { domain: [lo, hi], ticks: fittedTicks(lo, hi, plot, chars, style.fontSize) };
  }, [spot, range, plot, style]);
  const text = EXPOSURE_TEXT[series];
  const tip = useMemo(
    () =>
      function ExposureTip(props: TipProps) {
        const row = tipRow<ExposureRow>(props);
        if (!row) return null;
        return (
          <Tip
            title={`Strike ${fmtStrike(row.strike)}`}
            rows={[
              [`${text.name}${text.per}`, fmtCoin(row.units, coin, true), row.units >= 0 ? 'c-call' : 'c-put'],
              ['In USD', fmtUsd(row.usd)],
            ]}
          />
        );
      },
    [text, coin],
  );
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  return (
    <ResponsiveContainer width="100%" height="100%" onResize={onResize}>
      <ComposedChart data={rows} margin={style.margin}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis height={style.xAxisHeight} dataKey="strike" type="number" domain={x.domain} tickFormatter={fmtStrike} tick={style.tick} stroke={C.axisLine} ticks={x.ticks} allowDataOverflow />
        <YAxis tickFormatter={fmtUsd} tick={style.tick} stroke={C.axisLine} width={style.yAxisWidth} domain={y.domain} ticks={y.ticks} />
        <Tooltip content={tip} cursor={BAR_CURSOR} isAnimationActive={false} />
        <YMark y={0} stroke={C.axisLine} />
        <SignStackedBars rows={rows} x={exposureStrike} parts={EXPOSURE_PARTS} />
        {/* recharts draws its axes only around a graphical item of its own: an unseen line over the bars */}
        <Line dataKey="usd" stroke="transparent" dot={false} activeDot={false} type="linear" isAnimationActive={false} />
        <XMark x={g.spot} stroke={C.spot} strokeWidth={style.lineWidth} label={{ text: `spot ${fmtSpot(g.spot)}`, row: 0, fontSize: style.markFontSize }} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});

const StrikeView = memo(function StrikeView({ r, range, style }: { r: ResultMessage | null; range: number; style: ChartStyle }) {
  const [width, onResize] = useChartWidth();
  const g = r?.gex ?? null;
  const rows = useMemo(() => (g ? strikeRows(g, range) : []), [g, range]);
  const y = useMemo(() => {
    const vals: number[] = [];
    // Stacked by sign: the tallest bar is the sum of the same-signed parts.
    for (const r of rows) vals.push(Math.max(0, r.call) + Math.max(0, r.put), Math.min(0, r.call) + Math.min(0, r.put), r.net);
    return niceSymmetric(vals);
  }, [rows]);
  const spot = g?.spot ?? NaN;
  const plot = plotWidth(width, style);
  const x = useMemo(() => {
    const lo = spot * (1 - range);
    const hi = spot * (1 + range);
    const chars = Math.max(fmtStrike(lo).length, fmtStrike(hi).length);
    return { lo, hi, domain: [lo, hi], ticks: fittedTicks(lo, hi, plot, chars, style.fontSize) };
  }, [spot, range, plot, style]);
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  const fs = style.markFontSize;
  const inRange = (v: number | null): v is number => v !== null && v >= x.lo && v <= x.hi;
  return (
    <>
    {/* Which result this chart shows (the bench measures result -> chart paint with it). */}
    <span hidden data-testid="chart-stamp" data-seq={r?.seq} data-computed-at={r?.computedAtMs} data-frame-at={r?.newestFrameAtMs ?? ''} />
    <ResponsiveContainer width="100%" height="100%" onResize={onResize}>
      <ComposedChart data={rows} margin={style.margin}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis height={style.xAxisHeight} dataKey="strike" type="number" domain={x.domain} tickFormatter={fmtStrike} tick={style.tick} stroke={C.axisLine} ticks={x.ticks} allowDataOverflow />
        <YAxis tickFormatter={fmtUsd} tick={style.tick} stroke={C.axisLine} width={style.yAxisWidth} domain={y.domain} ticks={y.ticks} />
        <Tooltip content={StrikeTip} cursor={BAR_CURSOR} isAnimationActive={false} />
        <YMark y={0} stroke={C.axisLine} />
        <SignStackedBars rows={rows} x={rowStrike} parts={STRIKE_PARTS} />
        <Line dataKey="net" stroke={C.net} strokeWidth={style.lineWidth} dot={false} type="linear" isAnimationActive={false} />
        <XMark x={g.spot} stroke={C.spot} strokeWidth={style.lineWidth} label={{ text: `spot ${fmtSpot(g.spot)}`, row: 0, fontSize: fs }} />
        {inRange(g.zeroGammaLevel) && (
          <XMark x={g.zeroGammaLevel} stroke={C.zero} strokeWidth={style.lineWidth} strokeDasharray="6 4" label={{ text: `zero γ ${fmtLevel(g.zeroGammaLevel)}`, row: 1, fontSize: fs }} />
        )}
        {inRange(g.callWall) && (
          <XMark x={g.callWall} stroke={C.callWall} strokeDasharray="2 4" label={{ text: `call wall ${fmtStrike(g.callWall)}`, row: 2, fontSize: fs }} />
        )}
        {inRange(g.putWall) && (
          <XMark x={g.putWall} stroke={C.putWall} strokeDasharray="2 4" label={{ text: `put wall ${fmtStrike(g.putWall)}`, row: 3, fontSize: fs }} />
        )}
      </ComposedChart>
    </ResponsiveContainer>
    </>
  );
});
