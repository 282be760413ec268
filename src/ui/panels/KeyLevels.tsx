import { memo } from 'react';
import { useGex } from '../../state/react.ts';
import { distanceFromSpot } from '../data.ts';
import { fmtLevel, fmtSignedPct, fmtSpot, fmtStrike, fmtUsd } from '../format.ts';

const REGIME_TEXT = { positive: 'POSITIVE GAMMA', negative: 'NEGATIVE GAMMA', flat: 'FLAT GAMMA', invalid: 'GAMMA: DATA ERROR' } as const;
const REGIME_HELP = {
  positive: 'dealers dampen moves: they sell rallies and buy dips',
  negative: 'dealers amplify moves: they buy rallies and sell dips',
  flat: 'dealer gamma is about zero',
  invalid: 'the total is not a finite number: the figures cannot be trusted until the data is fixed',
} as const;

/** Spot, zero gamma (with distance), walls, largest |gamma| strike, total net GEX and the regime. */
export const KeyLevels = memo(function KeyLevels() {
  // A past minute (the scrubber) shows its levels; the header badge says it is the past.
  const g = useGex((s) => (s.past?.result ?? s.result)?.gex ?? null);
  const model = useGex((s) => s.view.model);
  const dist = g ? distanceFromSpot(g.zeroGammaLevel, g.spot) : null;
  return (
    <div className="levels">
      <div className={`regime ${g?.regime ?? 'flat'}`} data-testid="regime" title={g ? REGIME_HELP[g.regime] : undefined}>
        {g ? REGIME_TEXT[g.regime] : '—'}
      </div>
      <div className="level">
        <span className="k">Spot</span>
        <span className="v num c-spot" data-testid="spot">{fmtSpot(g?.spot)}</span>
      </div>
      <div className="level">
        <span className="k">Zero gamma</span>
        <span className="v num c-zero" data-testid="zero-gamma">{g ? (g.zeroGammaLevel === null ? 'none in range' : fmtLevel(g.zeroGammaLevel)) : '—'}</span>
        <span className="d num">{dist === null ? (g && g.zeroGammaLevel === null ? 'no sign change within ±50%' : '') : `${fmtSignedPct(dist)} from spot`}</span>
      </div>
      <div className="level">
        <span className="k">Call wall</span>
        <span className="v num c-call" data-testid="call-wall">{fmtStrike(g?.callWall)}</span>
      </div>
      <div className="level">
        <span className="k">Put wall</span>
        <span className="v num c-put" data-testid="put-wall">{fmtStrike(g?.putWall)}</span>
      </div>
      <div className="level">
        <span className="k">Largest |γ| strike</span>
        <span className="v num" data-testid="largest-gamma">{fmtStrike(g?.largestAbsGammaStrike)}</span>
      </div>
      <div className="level">
        <span className="k">Net GEX / 1%</span>
        <span className="v num" data-testid="net-gex">{fmtUsd(g?.totalNetGex)}</span>
        <span className="d">model: {model}{model === 'flow' ? ' (estimate)' : ''}</span>
      </div>
    </div>
  );
});
