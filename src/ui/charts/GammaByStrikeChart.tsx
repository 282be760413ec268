import { memo, useDeferredValue, useMemo } from 'react';
import { Bar, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useGex } from '../../state/store.ts';
import { C } from '../colors.ts';
import { niceSymmetric, niceTicks, strikeRows, type StrikeRow } from '../data.ts';
import { fmtLevel, fmtSpot, fmtStrike, fmtUsd } from '../format.ts';
import { Tip, axisTick, stackedLabel, tipRow } from './Tip.tsx';

function StrikeTip(props: { active?: boolean; payload?: readonly { payload?: unknown }[] }) {
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

/** Call, put and net dealer dollar gamma per 1 % move by strike, window following spot. */
export const GammaByStrikeChart = memo(function GammaByStrikeChart() {
  // Deferred: the chart redraw yields to input and paint instead of one long task per result.
  const r = useDeferredValue(useGex((s) => s.result));
  const g = r?.gex ?? null;
  const range = useGex((s) => s.view.profileRange);
  const kiosk = useGex((s) => s.view.kiosk);
  const rows = useMemo(() => (g ? strikeRows(g, range) : []), [g, range]);
  const y = useMemo(() => {
    const vals: number[] = [];
    // Stacked by sign: the tallest bar is the sum of the same-signed parts.
    for (const r of rows) vals.push(Math.max(0, r.call) + Math.max(0, r.put), Math.min(0, r.call) + Math.min(0, r.put), r.net);
    return niceSymmetric(vals);
  }, [rows]);
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  const lo = g.spot * (1 - range);
  const hi = g.spot * (1 + range);
  const fs = kiosk ? 15 : 11;
  const inRange = (x: number | null): x is number => x !== null && x >= lo && x <= hi;
  return (
    <>
    {/* Which result this chart shows (the bench measures result -> chart paint with it). */}
    <span hidden data-testid="chart-stamp" data-seq={r?.seq} data-computed-at={r?.computedAtMs} data-frame-at={r?.newestFrameAtMs ?? ''} />
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={rows} margin={{ top: 6, right: 16, bottom: 2, left: 4 }} stackOffset="sign" barCategoryGap={1}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis dataKey="strike" type="number" domain={[lo, hi]} tickFormatter={fmtStrike} tick={axisTick(kiosk)} stroke={C.axisLine} ticks={niceTicks(lo, hi, kiosk ? 6 : 10)} allowDataOverflow />
        <YAxis tickFormatter={fmtUsd} tick={axisTick(kiosk)} stroke={C.axisLine} width={kiosk ? 84 : 62} domain={y.domain} ticks={y.ticks} />
        <Tooltip content={StrikeTip} cursor={{ fill: 'rgba(255,255,255,0.06)' }} isAnimationActive={false} />
        <ReferenceLine y={0} stroke={C.axisLine} />
        <Bar dataKey="call" stackId="g" fill={C.call} isAnimationActive={false} />
        <Bar dataKey="put" stackId="g" fill={C.put} isAnimationActive={false} />
        <Line dataKey="net" stroke={C.net} strokeWidth={2} dot={false} type="linear" isAnimationActive={false} />
        <ReferenceLine x={g.spot} stroke={C.spot} strokeWidth={2} label={stackedLabel(`spot ${fmtSpot(g.spot)}`, C.spot, 0, fs)} />
        {inRange(g.zeroGammaLevel) && (
          <ReferenceLine x={g.zeroGammaLevel} stroke={C.zero} strokeWidth={2} strokeDasharray="6 4" label={stackedLabel(`zero γ ${fmtLevel(g.zeroGammaLevel)}`, C.zero, 1, fs)} />
        )}
        {inRange(g.callWall) && (
          <ReferenceLine x={g.callWall} stroke={C.callWall} strokeDasharray="2 4" label={stackedLabel(`call wall ${fmtStrike(g.callWall)}`, C.callWall, 2, fs)} />
        )}
        {inRange(g.putWall) && (
          <ReferenceLine x={g.putWall} stroke={C.putWall} strokeDasharray="2 4" label={stackedLabel(`put wall ${fmtStrike(g.putWall)}`, C.putWall, 3, fs)} />
        )}
      </ComposedChart>
    </ResponsiveContainer>
    </>
  );
});
