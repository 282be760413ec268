import { memo, useCallback, useMemo } from 'react';
import { Area, CartesianGrid, ComposedChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { GexResult } from '../../worker/protocol.ts';
import { C } from '../colors.ts';
import { niceSymmetric, profileRows, type ProfileRow } from '../data.ts';
import { fmtLevel, fmtSignedPct, fmtSpot, fmtUsd } from '../format.ts';
import { XMark, YMark } from './marks.tsx';
import { selectGex, usePacedGex } from './pace.ts';
import { plotWidth, useChartStyle, useChartWidth, type ChartStyle } from './style.ts';
import { fittedTicks } from './ticks.ts';
import { Tip, tipRow, type TipProps } from './Tip.tsx';

function profileTip(props: TipProps, spot: number) {
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
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const g = usePacedGex(selectGex);
  const style = useChartStyle();
  return <ProfileView g={g} style={style} />;
});

const ProfileView = memo(function ProfileView({ g, style }: { g: GexResult | null; style: ChartStyle }) {
  const [width, onResize] = useChartWidth();
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
  const spot = g?.spot ?? NaN;
  const lo = rows.length > 0 ? rows[0].price : NaN;
  const hi = rows.length > 0 ? rows[rows.length - 1].price : NaN;
  const plot = plotWidth(width, style);
  const x = useMemo(() => {
    const chars = Math.max(fmtLevel(lo).length, fmtLevel(hi).length);
    return { domain: [lo, hi], ticks: fittedTicks(lo, hi, plot, chars, style.fontSize, 6) };
  }, [lo, hi, plot, style]);
  const tip = useCallback((p: TipProps) => profileTip(p, spot), [spot]);
  if (!g || rows.length === 0) return <div className="empty">Waiting for data…</div>;
  const fs = style.markFontSize;
  return (
    <ResponsiveContainer width="100%" height="100%" onResize={onResize}>
      <ComposedChart data={rows} margin={style.margin}>
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
        <XAxis height={style.xAxisHeight} dataKey="price" type="number" domain={x.domain} tickFormatter={fmtLevel} tick={style.tick} stroke={C.axisLine} ticks={x.ticks} />
        <YAxis tickFormatter={fmtUsd} tick={style.tick} stroke={C.axisLine} width={style.yAxisWidth} domain={y.domain} ticks={y.ticks} />
        <Tooltip content={tip} isAnimationActive={false} />
        <Area dataKey="gex" type="linear" stroke="url(#gexSplitStroke)" strokeWidth={style.lineWidth} fill="url(#gexSplitFill)" baseValue={0} dot={false} isAnimationActive={false} />
        <YMark y={0} stroke={C.axis} />
        {g.zeroGammaCrossings
          .filter((x) => x >= lo && x <= hi)
          .map((x, i) => (
            <XMark key={i} x={x} stroke={C.zero} strokeDasharray="6 4" strokeWidth={i === 0 ? style.lineWidth : style.lineWidth / 2}
              label={{ text: i === 0 ? `zero γ ${fmtLevel(x)}` : fmtLevel(x), row: 1 + (i % 3), fontSize: fs }} />
          ))}
        <XMark x={spot} stroke={C.spot} strokeWidth={style.lineWidth} label={{ text: `spot ${fmtLevel(spot)}`, row: 0, fontSize: fs }} />
      </ComposedChart>
    </ResponsiveContainer>
  );
});
