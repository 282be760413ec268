import { memo, useMemo } from 'react';
import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { useGex, type HistoryPoint } from '../../state/store.ts';
import { C } from '../colors.ts';
import { historyRows } from '../data.ts';
import { fmtLevel, fmtSpot, fmtTimeUtc } from '../format.ts';
import { selectHistory, usePacedGex } from './pace.ts';
import { MARGIN_HISTORY, Tip, axisTick, tipRow, type TipProps } from './Tip.tsx';

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
  const kiosk = useGex((s) => s.view.kiosk);
  return <HistoryView history={history} kiosk={kiosk} />;
});

const shortTime = (t: number) => fmtTimeUtc(t).slice(0, 5);

const HistoryView = memo(function HistoryView({ history, kiosk }: { history: HistoryPoint[]; kiosk: boolean }) {
  const span = history.length > 1 ? history[history.length - 1].t - history[0].t : 0;
  const tickFmt = span < 15 * 60_000 ? fmtTimeUtc : shortTime;
  const rows = useMemo(() => historyRows(history), [history]);
  if (history.length < 2) return <div className="empty">Collecting history (one point per 10 s)…</div>;
  return (
    <ResponsiveContainer width="100%" height="100%">
      <LineChart data={rows} margin={MARGIN_HISTORY}>
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
