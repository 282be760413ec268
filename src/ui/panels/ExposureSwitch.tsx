import { useGex } from '../../state/react.ts';
import { EXPOSURES, type ExposureKind } from '../../state/url.ts';
import { PRIOR_MINUTES } from '../../state/minutes.ts';

const LABEL: Record<ExposureKind, { short: string; help: string }> = {
  gex: { short: 'GEX', help: 'dealer dollar gamma per 1 % move' },
  dex: { short: 'DEX', help: 'dealer delta exposure' },
  vex: { short: 'VEX', help: 'dealer vanna exposure: delta change per vol point' },
  chex: { short: 'CHEX', help: 'dealer charm exposure: delta drift per day' },
};

/** GEX / DEX / VEX / CHEX: what the strike chart shows (in the link as `exposure=`). */
export function ExposureSwitch() {
  const exposure = useGex((s) => s.view.exposure);
  const kiosk = useGex((s) => s.view.kiosk);
  const setView = useGex((s) => s.actions.setView);
  if (kiosk) return null;
  return (
    <span className="seg exposure-switch" role="group" aria-label="exposure by strike" data-testid="exposure-switch">
      {EXPOSURES.map((k) => (
        <button key={k} aria-pressed={k === exposure} title={LABEL[k].help} data-testid={`exposure-${k}`} onClick={() => setView({ exposure: k })}>
          {LABEL[k].short}
        </button>
      ))}
    </span>
  );
}

/** Priors on the strike chart: each strike's net GEX 1, 5, 15 and 30 minutes ago (in the link as `priors=`). */
export function PriorsSwitch() {
  const priors = useGex((s) => s.view.priors);
  const exposure = useGex((s) => s.view.exposure);
  const kiosk = useGex((s) => s.view.kiosk);
  const setView = useGex((s) => s.actions.setView);
  if (kiosk || exposure !== 'gex') return null;
  const on = priors.length > 0;
  return (
    <button className="btn priors-switch" aria-pressed={on} data-testid="priors-toggle" onClick={() => setView({ priors: on ? [] : [...PRIOR_MINUTES] })}
      title="marks of each strike's net GEX 1, 5, 15 and 30 minutes ago (from the stored history)">
      priors
    </button>
  );
}
