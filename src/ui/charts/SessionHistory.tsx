import { memo, useDeferredValue } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useGex, type HistoryPoint } from '../../state/store.ts';
import { C } from '../colors.ts';
import { fmtLevel, fmtSpot, fmtTimeUtc } from '../format.ts';
import { Tip, axisTick, tipRow } from './Tip.tsx';

function historyTip(props: { active?: boolean; payload?: readonly { payload?: unknown }[] }) {
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
  const history = useDeferredValue(useGex((s) => s.history));
  const kiosk = useGex((s) => s.view.kiosk);
  const span = history.length > 1 ? history[history.length - 1].t - history[0].t : 0;
  const tickFmt = span < 15 * 60_000 ? fmtTimeUtc : (t: number) => fmtTimeUtc(t).slice(0, 5);
  if (history.length < 2) return <div className="empty">Collecting history (one point per 10 s)…</div>;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={history} margin={{ top: 8, right: 12, bottom: 2, left: 4 }}>
        <CartesianGrid stroke={C.grid} vertical={false} />
        <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={tickFmt} tick={axisTick(kiosk)} stroke={C.axisLine} tickCount={5} />
        <YAxis domain={['auto', 'auto']} tickFormatter={fmtLevel} tick={axisTick(kiosk)} stroke={C.axisLine} width={kiosk ? 84 : 62} />
        <Tooltip content={historyTip} isAnimationActive={false} />
        <Line dataKey="spot" stroke={C.spot} strokeWidth={2} dot={false} isAnimationActive={false} />
        <Line dataKey="zeroGamma" stroke={C.zero} strokeWidth={2} strokeDasharray="5 3" dot={false} connectNulls={false} isAnimationActive={false} />
      </LineChart>
    </ResponsiveContainer>
  );
});
