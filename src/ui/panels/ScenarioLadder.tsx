import { memo, useMemo } from 'react';
import type { ResultMessage } from '../../worker/protocol.ts';
import { useGex } from '../../state/react.ts';
import { expiryLabel } from '../../state/url.ts';
import { ladderTable, type LadderCell } from '../data.ts';
import { fmtCoin, fmtExpiryTime, fmtHorizon, fmtMove, fmtSignedUsd } from '../format.ts';
import { selectShown, usePacedGex } from '../charts/pace.ts';
import { PAST_NOTE } from '../charts/GammaProfileChart.tsx';

/** Buy green, sell red, stronger with size: one glance says where dealers must trade most. */
function cellColour(usd: number, max: number): string {
  if (!(max > 0) || !Number.isFinite(usd) || usd === 0) return 'transparent';
  const a = 0.12 + 0.7 * Math.min(1, Math.abs(usd) / max);
  return usd > 0 ? `rgba(63, 185, 80, ${a.toFixed(3)})` : `rgba(255, 107, 94, ${a.toFixed(3)})`;
}

const volText = (v: number) => `${v > 0 ? '+' : ''}${Math.round(v * 1000) / 10}`;

/**
 * The scenario ladder (design: "Beyond gamma"): what dealers must trade for each spot move (rows) by
 * each horizon (columns, "through the next expiry" named) at the chosen vol shift; lines expiring by
 * a horizon drop out there, so their hedges unwind in that column.
 */
export const ScenarioLadder = memo(function ScenarioLadder() {
  // 55 numbers: once a second is as fast as anyone reads them, and a quarter of the table's cost.
  const r = usePacedGex(selectShown, LADDER_EVERY_MS);
  const past = useGex((s) => s.past !== null);
  const vol = useGex((s) => s.view.ladderVol);
  const coin = useGex((s) => s.view.currency);
  if (past) return <div className="empty">{PAST_NOTE}</div>;
  return <LadderView r={r} vol={vol} coin={coin} />;
});

/** The ladder's refresh interval, wall time. */
export const LADDER_EVERY_MS = 1_000;

function VolPicker({ shifts, vol }: { shifts: readonly number[]; vol: number }) {
  const setView = useGex((s) => s.actions.setView);
  const kiosk = useGex((s) => s.view.kiosk);
  if (kiosk) return <span className="sub">vol {volText(vol)} pts</span>;
  return (
    <span className="seg ladder-vol" role="group" aria-label="implied vol shift, points" data-testid="ladder-vol">
      <span className="k">vol</span>
      {shifts.map((v) => (
        <button key={v} aria-pressed={v === vol} data-testid={`ladder-vol-${volText(v)}`} onClick={() => setView({ ladderVol: v })} title={`implied vols ${volText(v)} points`}>
          {volText(v)}
        </button>
      ))}
    </span>
  );
}

const LadderView = memo(function LadderView({ r, vol, coin }: { r: ResultMessage | null; vol: number; coin: string }) {
  const g = r?.gex ?? null;
  const table = useMemo(() => (g ? ladderTable(g, vol) : null), [g, vol]);
  if (!r || !g || !table) return <div className="empty">{g ? 'No ladder for this vol shift' : 'Waiting for data…'}</div>;
  const asked = r.selection.ladder.hours;
  const next = g.nextExpiryMs;
  const head = (h: number, i: number) => (asked[i] === 'nextExpiry' && next !== null ? `to expiry ${fmtHorizon(h)}` : fmtHorizon(h));
  const title = (c: LadderCell) =>
    `spot ${fmtMove(c.move)}, ${c.hours === 0 ? 'now' : `in ${fmtHorizon(c.hours).slice(1)}`}, vol ${volText(c.volShift)} pts: ` +
    `dealers ${c.units >= 0 ? 'buy' : 'sell'} ${fmtCoin(Math.abs(c.units), coin)} (${fmtSignedUsd(c.usd)})`;
  return (
    <div className="ladder" data-testid="scenario-ladder">
      <div className="ladder-head">
        <VolPicker shifts={r.selection.ladder.volShifts} vol={vol} />
        <span className="sub" data-testid="ladder-next-expiry">
          {next === null ? 'no expiry in the sums' : `next expiry ${expiryLabel(next)}, ${fmtExpiryTime(next)}`}
        </span>
      </div>
      <div className="ladder-scroll">
        <table>
          <thead>
            <tr>
              <th>spot</th>
              {table.hours.map((h, i) => <th key={i} data-hours={h}>{head(h, i)}</th>)}
            </tr>
          </thead>
          <tbody>
            {table.rows.map((row, m) => (
              <tr key={table.moves[m]}>
                <th>{fmtMove(table.moves[m])}</th>
                {row.map((c, h) => (
                  <td key={h} className="num" style={{ background: cellColour(c.usd, table.maxAbsUsd) }} title={title(c)}
                    data-move={c.move} data-hours={c.hours} data-units={c.units} data-usd={c.usd}>
                    {fmtSignedUsd(c.usd)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
});
