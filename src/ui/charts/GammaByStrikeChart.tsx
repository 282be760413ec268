import { memo, useMemo } from 'react';
import { Bar, CartesianGrid, ComposedChart, Line, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useGex } from '../../state/store.ts';
import { C } from '../colors.ts';
import { strikeRows, symmetricDomain, type StrikeRow } from '../data.ts';
import { fmtLevel, fmtSpot, fmtStrike, fmtUsd } from '../format.ts';
import { Tip, axisTick, tipRow } from './Tip.tsx';

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
  const g = useGex((s) => s.result?.gex ?? null);
  const range = useGex((s) => s.view.profileRange);
  const kiosk = useGex((s) => s.view.kiosk);
  const rows = useMemo(() => (g ? strikeRows(g, range) : []), [g, range]);
  const domainY = useMemo(() => {
    const vals: number[] = [];
    for (const r of rows) vals.push(r.call + Math.max(0, r.put), Math.min(0, r.call) + r.put, r.net);
    return symmetricDomain(vals);
  }, [rows]);
  if (!g || rows.length === 0) return <div className="empty">{g ? 'No strikes in range' : 'Waiting for data…'}</div>;
  const lo = g.spot * (1 - range);
  const hi = g.spot * (1 + range);
  const fs = kiosk ? 15 : 11;
  const inRange = (x: number | null): x is number => x !== null && x >= lo && x <= hi;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={rows} margin={{ top: 22, right: 16, bottom: 2, left: 4 }} stackOffset="sign" barCategoryGap={1}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis dataKey="strike" type="number" domain={[lo, hi]} tickFormatter={fmtStrike} tick={axisTick(kiosk)} stroke={C.axisLine} tickCount={kiosk ? 8 : 12} allowDataOverflow />
        <YAxis tickFormatter={fmtUsd} tick={axisTick(kiosk)} stroke={C.axisLine} width={kiosk ? 84 : 62} domain={domainY} />
        <Tooltip content={StrikeTip} cursor={{ fill: 'rgba(255,255,255,0.06)' }} isAnimationActive={false} />
        <ReferenceLine y={0} stroke={C.axisLine} />
        <Bar dataKey="call" stackId="g" fill={C.call} isAnimationActive={false} />
        <Bar dataKey="put" stackId="g" fill={C.put} isAnimationActive={false} />
        <Line dataKey="net" stroke={C.net} strokeWidth={2} dot={false} type="linear" isAnimationActive={false} />
        <ReferenceLine x={g.spot} stroke={C.spot} strokeWidth={2} label={{ value: `spot ${fmtSpot(g.spot)}`, position: 'top', fill: C.spot, fontSize: fs }} />
        {inRange(g.zeroGammaLevel) && (
          <ReferenceLine x={g.zeroGammaLevel} stroke={C.zero} strokeWidth={2} strokeDasharray="6 4" label={{ value: `zero γ ${fmtLevel(g.zeroGammaLevel)}`, position: 'insideTopLeft', fill: C.zero, fontSize: fs }} />
        )}
        {inRange(g.callWall) && (
          <ReferenceLine x={g.callWall} stroke={C.callWall} strokeDasharray="2 4" label={{ value: `call wall ${fmtStrike(g.callWall)}`, position: 'insideBottomRight', fill: C.callWall, fontSize: fs }} />
        )}
        {inRange(g.putWall) && (
          <ReferenceLine x={g.putWall} stroke={C.putWall} strokeDasharray="2 4" label={{ value: `put wall ${fmtStrike(g.putWall)}`, position: 'insideBottomLeft', fill: C.putWall, fontSize: fs }} />
        )}
      </ComposedChart>
    </ResponsiveContainer>
  );
});
