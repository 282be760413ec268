/**
 * Alerts in the page (state/alerts.ts decides when one fires): the rules a desk picks (in the link),
 * the log of the last alerts with their venue time, a flash that a wall display cannot miss, browser
 * notifications where the person allowed them, and a sound for wall moves when the link asks for it.
 */
import { useEffect, useRef, useState } from 'react';
import { useGex } from '../../state/react.ts';
import { FLOW_MULTIPLE_MAX, FLOW_MULTIPLE_MIN, alertText, anyAlert, type AlertEntry, type AlertRules } from '../../state/alerts.ts';
import { fmtTimeUtc } from '../format.ts';

const alertTime = (a: AlertEntry) => `${fmtTimeUtc(a.atMs)} UTC`;

/** The last alerts, newest first, each with the venue time it fired (shown where any rule is on). */
export function AlertLog() {
  const log = useGex((s) => s.alertLog);
  const rules = useGex((s) => s.view.alerts);
  if (!anyAlert(rules) && log.length === 0) return null;
  return (
    <div className="alert-log" data-testid="alert-log" aria-live="polite">
      <div className="alert-log-head">alerts{log.length === 0 ? ': none yet' : ''}</div>
      {log.map((a) => (
        <div key={a.id} className={`alert-entry ${a.kind}`} data-testid="alert-entry" data-kind={a.kind} data-at-ms={a.atMs} data-since-ms={a.sinceMs} data-to={a.to}
          title={`${a.detail} · new state since ${fmtTimeUtc(a.sinceMs)} UTC (venue time)`}>
          <span className="num">{alertTime(a)}</span> <b>{a.where}</b> {alertText(a)}
        </div>
      ))}
    </div>
  );
}

/** Plays a short two-tone chime (a wall's alert sound), where the browser lets the page play one. */
function chime(): void {
  try {
    const Ctx = window.AudioContext ?? (window as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext;
    if (!Ctx) return;
    const ctx = new Ctx();
    const t = ctx.currentTime;
    for (const [i, f] of [880, 660].entries()) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = f;
      gain.gain.setValueAtTime(0.0001, t + i * 0.25);
      gain.gain.exponentialRampToValueAtTime(0.25, t + i * 0.25 + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + i * 0.25 + 0.22);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t + i * 0.25);
      osc.stop(t + i * 0.25 + 0.25);
    }
    setTimeout(() => void ctx.close(), 1000);
  } catch {
    // no sound: the flash and the log still show it
  }
}

/** How long the flash stays. */
const FLASH_MS = 8_000;

/**
 * On each new alert: a flash over the page for a few seconds, a browser notification where allowed,
 * and the chime for wall moves when the rules ask for sound.
 */
export function AlertEffects() {
  const newest = useGex((s) => s.alertLog[0] ?? null);
  const sound = useGex((s) => s.view.alerts.sound);
  const seen = useRef<number | null>(newest?.id ?? null);
  const [flash, setFlash] = useState<AlertEntry | null>(null);
  useEffect(() => {
    if (!newest || newest.id === seen.current) return;
    seen.current = newest.id;
    setFlash(newest);
    const id = setTimeout(() => setFlash(null), FLASH_MS);
    if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      try {
        new Notification(`gexdesk ${newest.where}: ${alertText(newest)}`, { body: `${alertTime(newest)} · ${newest.detail}`, tag: `gexdesk-${newest.kind}` });
      } catch {
        // some browsers allow notifications only from a service worker: the flash shows it
      }
    }
    if (sound && (newest.kind === 'callWall' || newest.kind === 'putWall')) chime();
    return () => clearTimeout(id);
  }, [newest, sound]);
  if (!flash) return null;
  return (
    <div className={`alert-flash ${flash.kind}`} data-testid="alert-flash" role="alert" onClick={() => setFlash(null)}>
      <b>{alertText(flash)}</b> <span className="num">{alertTime(flash)}</span> · {flash.where}
      <small>{flash.detail}</small>
    </div>
  );
}

/** The alert set, for the link: rules on and off, the flow multiple, sound, and the browser's permission. */
export function AlertRulesPicker() {
  const rules = useGex((s) => s.view.alerts);
  const setView = useGex((s) => s.actions.setView);
  const set = (patch: Partial<AlertRules>) => setView({ alerts: { ...rules, ...patch } });
  const [multiple, setMultiple] = useState<string | null>(null);
  const [permission, setPermission] = useState(() => (typeof Notification === 'undefined' ? 'unsupported' : Notification.permission));
  const on = [rules.regime, rules.zeroGamma, rules.callWall, rules.putWall, rules.flowMultiple !== null].filter(Boolean).length;
  const check = (label: string, checked: boolean, patch: (v: boolean) => Partial<AlertRules>, id: string) => (
    <label className="exp-row">
      <input type="checkbox" checked={checked} onChange={(e) => set(patch(e.target.checked))} data-testid={`alert-rule-${id}`} />
      {label}
    </label>
  );
  return (
    <details className="dropdown control right" data-testid="alert-rules">
      <summary>{on === 0 ? 'Alerts off' : `Alerts: ${on}`}</summary>
      <div className="dropdown-panel">
        {check('Regime flips', rules.regime, (v) => ({ regime: v }), 'regime')}
        {check('Spot crosses zero gamma', rules.zeroGamma, (v) => ({ zeroGamma: v }), 'zero')}
        {check('Call wall moves', rules.callWall, (v) => ({ callWall: v }), 'callwall')}
        {check('Put wall moves', rules.putWall, (v) => ({ putWall: v }), 'putwall')}
        <label className="exp-row">
          <input type="checkbox" checked={rules.flowMultiple !== null} onChange={(e) => set({ flowMultiple: e.target.checked ? Number(multiple ?? 1) || 1 : null })} data-testid="alert-rule-flow" />
          Hedge flow per 1% above
          <input type="number" min={FLOW_MULTIPLE_MIN} max={FLOW_MULTIPLE_MAX} step={0.1} className="flow-multiple" data-testid="alert-flow-multiple"
            value={multiple ?? String(rules.flowMultiple ?? 1)}
            onChange={(e) => {
              setMultiple(e.target.value);
              const v = Math.round(Number(e.target.value) * 100) / 100;
              if (rules.flowMultiple !== null && v >= FLOW_MULTIPLE_MIN && v <= FLOW_MULTIPLE_MAX) set({ flowMultiple: v });
            }}
            onBlur={() => setMultiple(null)} />
          × the ±1% perp depth
        </label>
        {check('Sound with wall alerts', rules.sound, (v) => ({ sound: v }), 'sound')}
        <div className="exp-row">
          Browser notifications: {permission === 'granted' ? 'on' : permission === 'denied' ? 'blocked in the browser' : permission === 'unsupported' ? 'not in this browser' : (
            <button className="btn" data-testid="alert-notify" onClick={() => void Notification.requestPermission().then(setPermission)}>allow</button>
          )}
        </div>
        <div className="note">An alert fires when the new state has held 30 s of venue time, never on stale data.</div>
      </div>
    </details>
  );
}
