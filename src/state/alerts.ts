/**
 * Alerts a desk can trust: a pure state machine fed with each result's figures, its venue time and
 * whether the page judges the figures stale (staleness.ts: the stale banner wins).
 *
 * Each rule reads one state from a result: the gamma regime, spot above or below zero gamma, the call
 * or put wall's strike, hedge flow per 1 % above or below a multiple of the ±1 % perp depth. A new
 * state becomes the rule's state only once it has held HOLD_MS of venue time over fresh results; the
 * way back needs the same, so a noisy feed does not flap. A stale result breaks every hold and fires
 * nothing. The first state a rule settles on is its baseline (no alert), except the flow rule, which
 * alerts whenever flow settles above its multiple, from the start too.
 */
import type { ResultMessage } from '../worker/protocol.ts';

/** A new state must hold this much venue time before it counts (and the way back too). */
export const HOLD_MS = 30_000;
/** Alerts kept in the log. */
export const ALERT_LOG_MAX = 20;

export type AlertKind = 'regime' | 'zeroGamma' | 'callWall' | 'putWall' | 'hedgeFlow';
export const ALERT_KINDS: readonly AlertKind[] = ['regime', 'zeroGamma', 'callWall', 'putWall', 'hedgeFlow'];

/** The alert set of a view (in the link: `alerts=regime,zero,walls,flow:2,sound`). */
export interface AlertRules {
  regime: boolean;
  zeroGamma: boolean;
  callWall: boolean;
  putWall: boolean;
  /** Alert when hedge flow per 1 % exceeds this multiple of the ±1 % perp depth; null for none. */
  flowMultiple: number | null;
  /** A sound with wall alerts (wall displays). */
  sound: boolean;
}

export const NO_ALERTS: Readonly<AlertRules> = Object.freeze({ regime: false, zeroGamma: false, callWall: false, putWall: false, flowMultiple: null, sound: false });
export const FLOW_MULTIPLE_MIN = 0.01;
export const FLOW_MULTIPLE_MAX = 100;

export const anyAlert = (r: AlertRules) => r.regime || r.zeroGamma || r.callWall || r.putWall || r.flowMultiple !== null;

/** What the rules read from one result. */
export interface AlertInput {
  /** Venue time of the figures (the valuation instant). */
  nowMs: number;
  stale: boolean;
  regime: ResultMessage['gex']['regime'];
  spot: number;
  zeroGamma: number | null;
  callWall: number | null;
  putWall: number | null;
  /** Hedge flow per 1 % over the perp depth within 1 % on the side dealers trade, the larger of up and down; null unknown. */
  flowToDepth: number | null;
}

export interface AlertEntry {
  id: number;
  kind: AlertKind;
  /** Venue time the alert fired: the first result after the new state held HOLD_MS. */
  atMs: number;
  /** Venue time the new state was first seen. */
  sinceMs: number;
  /** The states, in words the log prints (`positive` -> `negative`, `below` -> `above`, `90000` -> `95000`). */
  from: string | null;
  to: string;
  /** The figure behind it: spot and zero gamma, or flow / depth. */
  detail: string;
  /** The view it was seen in (currency), for a log that spans switches. */
  where: string;
}

interface Track {
  confirmed: string | null;
  candidate: { state: string; since: number } | null;
}

/** Hedge flow per 1 % over the summed ±1 % perp depth on the side dealers trade (buys take asks), the worse of up and down. */
export function flowToDepthAt1Pct(r: ResultMessage): number | null {
  let bid = 0;
  let ask = 0;
  let any = false;
  for (const p of r.perps) {
    const band = p.depth.find((d) => Math.abs(d.bandPct - 1) < 1e-9);
    if (!band) continue;
    any = true;
    bid += band.bidCoin;
    ask += band.askCoin;
  }
  if (!any) return null;
  const g = r.gex;
  let worst: number | null = null;
  for (let i = 0; i < g.moves.length; i++) {
    if (Math.abs(Math.abs(g.moves[i]) - 0.01) > 1e-9) continue;
    const units = g.hedgeFlowUnits[i];
    const depth = units >= 0 ? ask : bid;
    if (!(depth > 0) || !Number.isFinite(units)) continue;
    const ratio = Math.abs(units) / depth;
    worst = worst === null ? ratio : Math.max(worst, ratio);
  }
  return worst;
}

export function alertInput(r: ResultMessage, stale: boolean): AlertInput {
  const g = r.gex;
  return {
    nowMs: g.nowMs, stale, regime: g.regime, spot: g.spot, zeroGamma: g.zeroGammaLevel,
    callWall: g.callWall, putWall: g.putWall, flowToDepth: flowToDepthAt1Pct(r),
  };
}

const round = (x: number) => Math.round(x).toLocaleString('en-US');

/** Each rule's state in an input, null where it says nothing (no zero gamma, a flat or invalid total, ...). */
function stateOf(kind: AlertKind, x: AlertInput, rules: AlertRules): string | null {
  switch (kind) {
    case 'regime':
      return x.regime === 'positive' || x.regime === 'negative' ? x.regime : null;
    case 'zeroGamma':
      return x.zeroGamma === null || !Number.isFinite(x.zeroGamma) || x.spot === x.zeroGamma ? null : x.spot > x.zeroGamma ? 'above' : 'below';
    case 'callWall':
      return x.callWall === null ? null : String(x.callWall);
    case 'putWall':
      return x.putWall === null ? null : String(x.putWall);
    case 'hedgeFlow':
      return x.flowToDepth === null || rules.flowMultiple === null ? null : x.flowToDepth > rules.flowMultiple ? 'above' : 'below';
  }
}

function detailOf(kind: AlertKind, x: AlertInput, rules: AlertRules): string {
  switch (kind) {
    case 'regime':
    case 'zeroGamma':
      return `spot ${round(x.spot)}, zero gamma ${x.zeroGamma === null ? 'none in range' : round(x.zeroGamma)}`;
    case 'callWall':
    case 'putWall':
      return `spot ${round(x.spot)}`;
    case 'hedgeFlow':
      return `hedge flow per 1% ${x.flowToDepth === null ? '?' : x.flowToDepth.toFixed(2)}x the ±1% perp depth (alert above ${rules.flowMultiple}x)`;
  }
}

const enabled = (kind: AlertKind, r: AlertRules) =>
  kind === 'regime' ? r.regime : kind === 'zeroGamma' ? r.zeroGamma : kind === 'callWall' ? r.callWall : kind === 'putWall' ? r.putWall : r.flowMultiple !== null;

/**
 * The rules' states over one series. `feed` takes each result in venue-time order and returns the
 * alerts it fires (at most one per rule).
 */
export class AlertMachine {
  private tracks = new Map<AlertKind, Track>();
  private lastMs = -Infinity;
  private nextId: () => number;

  constructor(private rules: AlertRules, private readonly where: string, nextId?: () => number) {
    let n = 0;
    this.nextId = nextId ?? (() => ++n);
  }

  /** New rules (a link edited): rules switched off forget their state, a changed flow multiple starts over. */
  setRules(rules: AlertRules): void {
    if (rules.flowMultiple !== this.rules.flowMultiple) this.tracks.delete('hedgeFlow');
    for (const k of ALERT_KINDS) if (!enabled(k, rules)) this.tracks.delete(k);
    this.rules = rules;
  }

  feed(x: AlertInput): AlertEntry[] {
    if (!Number.isFinite(x.nowMs)) return [];
    // Venue time going back (a replay looped, another session): nothing held carries over.
    if (x.nowMs < this.lastMs) this.tracks.clear();
    this.lastMs = x.nowMs;
    const fired: AlertEntry[] = [];
    for (const kind of ALERT_KINDS) {
      if (!enabled(kind, this.rules)) continue;
      let t = this.tracks.get(kind);
      if (!t) this.tracks.set(kind, (t = { confirmed: null, candidate: null }));
      const s = x.stale ? null : stateOf(kind, x, this.rules);
      if (s === null || s === t.confirmed) {
        // Stale, nothing to say, or back to the settled state: a pending change did not hold.
        t.candidate = null;
        continue;
      }
      if (!t.candidate || t.candidate.state !== s) {
        t.candidate = { state: s, since: x.nowMs };
        continue;
      }
      if (x.nowMs - t.candidate.since < HOLD_MS) continue;
      const from = t.confirmed;
      const since = t.candidate.since;
      t.confirmed = s;
      t.candidate = null;
      const alerts = kind === 'hedgeFlow' ? s === 'above' : from !== null;
      if (alerts) fired.push({ id: this.nextId(), kind, atMs: x.nowMs, sinceMs: since, from, to: s, detail: detailOf(kind, x, this.rules), where: this.where });
    }
    return fired;
  }
}

/** One line for people: "Regime flipped positive → negative", "Call wall moved 90,000 → 95,000", ... */
export function alertText(a: Pick<AlertEntry, 'kind' | 'from' | 'to'>): string {
  const strike = (s: string | null) => (s === null ? '—' : Number(s).toLocaleString('en-US'));
  switch (a.kind) {
    case 'regime':
      return `Regime flipped to ${a.to} gamma`;
    case 'zeroGamma':
      return `Spot crossed ${a.to === 'above' ? 'above' : 'below'} zero gamma`;
    case 'callWall':
      return `Call wall moved ${strike(a.from)} → ${strike(a.to)}`;
    case 'putWall':
      return `Put wall moved ${strike(a.from)} → ${strike(a.to)}`;
    case 'hedgeFlow':
      return 'Hedge flow per 1% above its multiple of perp depth';
  }
}
