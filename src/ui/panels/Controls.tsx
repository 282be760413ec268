import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { useGex } from '../../state/react.ts';
import {
  ALL_VENUES, CURRENCIES, MODELS, RANGE_MAX_PCT, RANGE_MIN_PCT, WINDOW_DAYS, expiryLabel, quickPicks, viewToSearch,
} from '../../state/url.ts';
import type { ExpiryInfo, VenueId } from '../../worker/protocol.ts';
import { useWorkerClient } from '../context.ts';
import { AfterNextExpirySwitch } from './BeyondGamma.tsx';
import { DEALER_MODEL_HELP } from '../../shared/policy.ts';
import { venueLabel } from '../../shared/venues.ts';

const MODEL_HELP = DEALER_MODEL_HELP;


/** The live expiry list, from the worker through react-query; the latest result's list until it answers. */
function useExpiries(): ExpiryInfo[] {
  const client = useWorkerClient();
  const venues = useGex((s) => s.view.venues);
  const currency = useGex((s) => s.view.currency);
  const source = useGex((s) => s.view.source);
  const fallback = useGex((s) => s.result?.expiries);
  const q = useQuery({
    queryKey: ['expiries', source, venues.join(','), currency],
    queryFn: async () => {
      if (!client) return [];
      const data = await client.request({ kind: 'expiries', venues, currency });
      return data;
    },
    enabled: client !== null,
    refetchInterval: 30_000,
    staleTime: 10_000,
  });
  const list = q.data && q.data.length > 0 ? q.data : (fallback ?? []);
  return list;
}

function VenuePicker() {
  const venues = useGex((s) => s.view.venues);
  const setView = useGex((s) => s.actions.setView);
  const toggle = (v: VenueId) => {
    const next = venues.includes(v) ? venues.filter((x) => x !== v) : [...venues, v];
    if (next.length > 0) setView({ venues: ALL_VENUES.filter((x) => next.includes(x)) });
  };
  return (
    <details className="dropdown control" data-testid="venue-picker">
      <summary>{venues.map(venueLabel).join(', ')}</summary>
      <div className="dropdown-panel">
        {ALL_VENUES.map((v) => (
          <label key={v} className="exp-row">
            <input type="checkbox" checked={venues.includes(v)} onChange={() => toggle(v)} data-venue={v} />
            {venueLabel(v)}
          </label>
        ))}
      </div>
    </details>
  );
}

function ExpiryPicker() {
  const expiries = useGex((s) => s.view.expiries);
  const nowMs = useGex((s) => s.result?.gex.nowMs ?? null);
  const setView = useGex((s) => s.actions.setView);
  const live = useExpiries();
  // Before the first result, the first listed expiry stands in for the venue's clock.
  const picks = quickPicks(live, nowMs ?? (live.length > 0 ? live[0].expiryMs - 1 : 0));
  const summary =
    expiries.length === 0 ? 'All expiries' : expiries.length <= 3 ? expiries.map(expiryLabel).join(', ') : `${expiries.length} expiries`;
  const toggle = (ms: number) => {
    const next = expiries.includes(ms) ? expiries.filter((e) => e !== ms) : [...expiries, ms].sort((a, b) => a - b);
    setView({ expiries: next });
  };
  const pick = (list: number[]) => setView({ expiries: [...list] });
  return (
    <details className="dropdown control" data-testid="expiry-picker">
      <summary data-testid="expiry-summary">{summary}</summary>
      <div className="dropdown-panel">
        <div className="quick">
          <button className="btn" onClick={() => pick(picks.nearest)} disabled={picks.nearest.length === 0}>nearest</button>
          <button className="btn" onClick={() => pick(picks.thisWeek)} disabled={picks.thisWeek.length === 0}>this week</button>
          <button className="btn" onClick={() => pick(picks.thisMonth)} disabled={picks.thisMonth.length === 0}>this month</button>
          <button className="btn" onClick={() => pick([])}>all</button>
        </div>
        {live.length === 0 && <div className="empty">loading expiries…</div>}
        {live.map((e) => (
          <label key={e.expiryMs} className="exp-row">
            <input type="checkbox" checked={expiries.includes(e.expiryMs)} onChange={() => toggle(e.expiryMs)} data-expiry={e.label} />
            {e.label}
            <span className="lines">{e.lines} lines</span>
          </label>
        ))}
      </div>
    </details>
  );
}

function CopyLink() {
  const view = useGex((s) => s.view);
  const [copied, setCopied] = useState<string | null>(null);
  const link = `${location.origin}${location.pathname}?${viewToSearch(view)}`;
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(link);
      setCopied('copied');
    } catch {
      // Clipboard refused (permissions, insecure origin): the link is still in the address bar and data-link.
      setCopied('copy refused: use the address bar');
    }
    setTimeout(() => setCopied(null), 2500);
  };
  return (
    <button className="btn primary" data-testid="copy-link" data-link={link} onClick={copy} title={link}>
      {copied ?? 'Copy link'}
    </button>
  );
}

/** The days of trades the flow model reads (`window=`): a few usual lengths, and the link's own. */
function WindowPicker() {
  const days = useGex((s) => s.view.windowDays);
  const setView = useGex((s) => s.actions.setView);
  const choices = [...new Set([1, 3, WINDOW_DAYS.default, 14, WINDOW_DAYS.max, days])].sort((a, b) => a - b);
  return (
    <label className="control" title="the flow model's lookback: trades of the last N days (Deribit's history of a week takes a few minutes to fetch)">
      Window
      <select value={days} onChange={(e) => setView({ windowDays: Number(e.target.value) })} data-testid="window-select">
        {choices.map((d) => <option key={d} value={d}>{d} d</option>)}
      </select>
    </label>
  );
}

/** Venue, currency, expiries, dealer model, strike range, source, copy link. Hidden in kiosk mode. */
export function Controls() {
  const currency = useGex((s) => s.view.currency);
  const model = useGex((s) => s.view.model);
  const range = useGex((s) => s.view.profileRange);
  const source = useGex((s) => s.view.source);
  const setView = useGex((s) => s.actions.setView);
  const [rangeText, setRangeText] = useState<string | null>(null);
  return (
    <div className="controls" data-testid="controls">
      <label className="control">Source
        <select value={source} onChange={(e) => setView({ source: e.target.value as typeof source })} data-testid="source-select">
          <option value="live">live</option>
          <option value="sim">simulator</option>
          <option value="replay">replay</option>
          <option value="relay">desk relay</option>
        </select>
      </label>
      <span className="control">Venue <VenuePicker /></span>
      <span className="control">
        <span className="only-drawer">Currency</span>
        <span className="seg" role="group" aria-label="currency">
          {CURRENCIES.map((c) => (
            <button key={c} aria-pressed={c === currency} onClick={() => setView({ currency: c })} data-testid={`currency-${c}`}>{c}</button>
          ))}
        </span>
      </span>
      <span className="control">Expiries <ExpiryPicker /></span>
      <span className="control">
        Model
        <span className="seg" role="group" aria-label="dealer model">
          {MODELS.map((m) => (
            <button key={m} aria-pressed={m === model} onClick={() => setView({ model: m })} title={MODEL_HELP[m]} data-testid={`model-${m}`}>{m}</button>
          ))}
        </span>
        <span className="model-help">{MODEL_HELP[model]}</span>
      </span>
      {model === 'flow' && <WindowPicker />}
      <label className="control" title="strike window and gamma profile: spot ± this percentage">
        Range ±
        <input
          type="number" min={RANGE_MIN_PCT} max={RANGE_MAX_PCT} step={1} data-testid="range"
          value={rangeText ?? String(Math.round(range * 1000) / 10)}
          onChange={(e) => {
            setRangeText(e.target.value);
            const pct = Number(e.target.value);
            if (Number.isFinite(pct) && pct >= RANGE_MIN_PCT && pct <= RANGE_MAX_PCT) setView({ profileRange: Math.round(pct * 10) / 1000 });
          }}
          onBlur={() => setRangeText(null)}
        />%
      </label>
      <AfterNextExpirySwitch />
      <span className="spacer" />
      <CopyLink />
    </div>
  );
}
