import { memo, useDeferredValue, useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useGex } from '../../state/store.ts';
import { C } from '../colors.ts';
import { niceSymmetric, niceTicks, profileRows, type ProfileRow } from '../data.ts';
import { fmtLevel, fmtSignedPct, fmtSpot, fmtUsd } from '../format.ts';
import { Tip, axisTick, stackedLabel, tipRow } from './Tip.tsx';

function profileTip(props: { active?: boolean; payload?: readonly { payload?: unknown }[] }, spot: number) {
  const r = tipRow<ProfileRow>(props);
  if (!r) return null;
  return (
    <Tip
      title={`Spot ${fmtSpot(r.price)} (${fmtSignedPct(r.price / spot - 1)})`}
      rows={[['Total net GEX / 1%', fmtUsd(r.gex)], ['exact', `${Math.round(r.gex).toLocaleString('en-US')} USD`]]}
    />
  );
}

/** Total dealer GEX across hypothetical spots, every zero crossing and today's spot. */
export const GammaProfileChart = memo(function GammaProfileChart() {
  const g = useDeferredValue(useGex((s) => s.result?.gex ?? null));
  const kiosk = useGex((s) => s.view.kiosk);
  const rows = useMemo(() => (g ? profileRows(g) : []), [g]);
  // Colour above zero green and below red: the gradient stop sits where the curve crosses 0.
  const y = useMemo(() => niceSymmetric(rows.map((r) => r.gex)), [rows]);
  const split = useMemo(() => {
    let max = -Infinity;
    let min = Infinity;
    for (const r of rows) {
      if (r.gex > max) max = r.gex;
      if (r.gex < min) min = r.gex;
    }
    if (!(max > 0)) return 0;
    if (!(min < 0)) return 1;
    return max / (max - min);
  }, [rows]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  const spot = g.spot;
  const fs = kiosk ? 15 : 11;
  const lo = rows[0].price;
  const hi = rows[rows.length - 1].price;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <ComposedChart data={rows} margin={{ top: 6, right: 16, bottom: 2, left: 4 }}>
        <defs>
          <linearGradient id="gexSplitFill" x1="0" y1="0" x2="0" y2="1">
            <stop offset={split} stopColor={C.call} stopOpacity={0.28} />
            <stop offset={split} stopColor={C.put} stopOpacity={0.28} />
          </linearGradient>
          <linearGradient id="gexSplitStroke" x1="0" y1="0" x2="0" y2="1">
            <stop offset={split} stopColor={C.call} />
            <stop offset={split} stopColor={C.put} />
          </linearGradient>
        </defs>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis dataKey="price" type="number" domain={[lo, hi]} tickFormatter={fmtLevel} tick={axisTick(kiosk)} stroke={C.axisLine} ticks={niceTicks(lo, hi, kiosk ? 4 : 6)} />
        <YAxis tickFormatter={fmtUsd} tick={axisTick(kiosk)} stroke={C.axisLine} width={kiosk ? 84 : 62} domain={y.domain} ticks={y.ticks} />
        <Tooltip content={(p) => profileTip(p, spot)} isAnimationActive={false} />
        <Area dataKey="gex" type="linear" stroke="url(#gexSplitStroke)" strokeWidth={2} fill="url(#gexSplitFill)" baseValue={0} dot={false} isAnimationActive={false} />
        <ReferenceLine y={0} stroke={C.axis} />
        {g.zeroGammaCrossings
          .filter((x) => x >= lo && x <= hi)
          .map((x, i) => (
            <ReferenceLine key={i} x={x} stroke={C.zero} strokeDasharray="6 4" strokeWidth={i === 0 ? 2 : 1}
              label={stackedLabel(i === 0 ? `zero γ ${fmtLevel(x)}` : fmtLevel(x), C.zero, 1 + (i % 3), fs)} />
          ))}
        <ReferenceLine x={spot} stroke={C.spot} strokeWidth={2} label={stackedLabel(`spot ${fmtLevel(spot)}`, C.spot, 0, fs)} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});
