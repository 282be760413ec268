import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistoryPoint } from '../../state/history.ts';
import { C } from '../colors.ts';
import { historyRows } from '../data.ts';
import { fmtLevel, fmtSpot, fmtTimeUtc } from '../format.ts';
import { selectHistory, usePacedGex } from './pace.ts';
import { plotWidth, useChartStyle, useChartWidth, type ChartStyle } from './style.ts';
import { timeStepShowsSeconds, timeTicks } from './ticks.ts';
import { Tip, tipRow, type TipProps } from './Tip.tsx';

function historyTip(props: TipProps) {
  const p = tipRow<HistoryPoint>(props);
  if (!p) return null;
  return (
    <Tip
      title={`${new Date(p.t).toISOString().slice(0, 10)} ${fmtTimeUtc(p.t)} UTC`}
      rows={[['Spot', fmtSpot(p.spot), 'c-spot'], ['Zero gamma', p.zeroGamma === null ? 'none in range' : fmtLevel(p.zeroGamma), 'c-zero']]}
    />
  );
}

/** Spot and zero gamma over the session (venue time), bounded and kept across reloads. */
export const SessionHistory = memo(function SessionHistory() {
  // In its own turn, into a memoised view: see GammaByStrikeChart.
  const history = usePacedGex(selectHistory);
  const style = useChartStyle();
  return <HistoryView history={history} style={style} />;
});

const shortTime = (t: number) => fmtTimeUtc(t).slice(0, 5);

const HistoryView = memo(function HistoryView({ history, style }: { history: HistoryPoint[]; style: ChartStyle }) {
  const [width, onResize] = useChartWidth();
  const t0 = history.length > 0 ? history[0].t : NaN;
  const t1 = history.length > 0 ? history[history.length - 1].t : NaN;
  const plot = plotWidth(width, style);
  const x = useMemo(() => timeTicks(t0, t1, plot, style.fontSize), [t0, t1, plot, style]);
  const tickFmt = timeStepShowsSeconds(x.stepMs) ? fmtTimeUtc : shortTime;
  const rows = useMemo(() => historyRows(history), [history]);
  if (history.length < 2) return <div className="empty">Collecting history (one point per 10 s)…</div>;
  return (
    <ResponsiveContainer width="100%" height="100%" onResize={onResize}>
      <LineChart data={rows} margin={style.margin}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis height={style.xAxisHeight} dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickFmt} tick={style.tick} stroke={C.axisLine} ticks={x.ticks} />
        <YAxis domain={['auto', 'auto']} tickFormatter={fmtLevel} tick={style.tick} stroke={C.axisLine} width={style.yAxisWidth} />
        <Tooltip content={historyTip} isAnimationActive={false} />
        <Line dataKey="spot" stroke={C.spot} strokeWidth={style.lineWidth} dot={false} isAnimationActive={false} />
        <Line dataKey="zeroGamma" stroke={C.zero} strokeWidth={style.lineWidth} strokeDasharray="5 3" dot={false} connectNulls={false} isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
});
