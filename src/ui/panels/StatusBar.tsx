import type { ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { fetchServerInfo, relaySummary } from '../../state/relay-health.ts';
import { useGex, useGexStoreApi } from '../../state/react.ts';
import type { FeedHealth } from '../../worker/protocol.ts';
import { fmtAge, fmtTimeUtc } from '../format.ts';
import { useViewport } from '../layout/viewport.ts';
import { useNow } from '../useNow.ts';

const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
const detail = (r: Record<string, number>) =>
  Object.entries(r).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ');

/** Parts of the status line that wrap as a whole, never mid-phrase ("151 msg/s"). */
const Nw = ({ children, title }: { children: ReactNode; title?: string }) => <span className="nw" title={title}>{children}</span>;

/** One feed's health; `compact` (several venues, or a phone) keeps state, age and drops, the rest in the tooltip. */
function Feed({ f, extraAge, compact }: { f: FeedHealth; extraAge: number; compact: boolean }) {
  const dropped = sum(f.dropped);
  const excluded = sum(f.excludedLines);
  const age = f.dataAgeMs === null ? '—' : fmtAge(f.dataAgeMs + extraAge);
  const name = <Nw><span className={`dot ${f.state}`} /><b>{f.venue}</b> {f.state}</Nw>;
  if (compact) {
    const fam = familiesText(f);
    const subs = f.subscribes ? ` · subscribes ${f.subscribes.lastHour}/${f.subscribes.budgetPerHour} this hour` : '';
    const tip = `${Math.round(f.messagesPerSec)} msg/s · reconnects ${f.reconnects}${subs} · dropped: ${detail(f.dropped) || 'none'} · excluded lines: ${detail(f.excludedLines) || 'none'}${fam ? ` · lines in by family: ${fam}` : ''}${(f.assumptions ?? []).map((a) => ` · ${a}`).join('')}${f.lastError ? ` · ${f.lastError}` : ''}`;
    return (
      <span className="item feed" data-feed={f.venue} data-state={f.state} title={tip}>
        {name} <span className="num">{age}</span>
        {dropped > 0 && <> · <Nw>dropped <span className="num">{dropped}</span></Nw></>}
        {f.lastError && ' ⚠'}
        <Assumptions f={f} />
      </span>
    );
  }
  return (
    <span className="item feed" data-feed={f.venue} data-state={f.state}>
      {name}
      {' · '}<Nw>data <span className="num">{age}</span></Nw>
      {' · '}<Nw><span className="num">{Math.round(f.messagesPerSec)}</span> msg/s</Nw>
      {f.reconnects > 0 && <> · <Nw>reconnects <span className="num">{f.reconnects}</span></Nw></>}
      {' · '}<Nw title={detail(f.dropped) || 'none'}>dropped <span className="num">{dropped}</span></Nw>
      {' · '}<Nw title={detail(f.excludedLines) || 'none'}>excluded lines <span className="num">{excluded}</span></Nw>
      {f.lastError && <span title={f.lastError}> · ⚠ {f.lastError.slice(0, 60)}</span>}
      {f.families && <span data-testid="feed-families" title="lines in the figures / listed, per option family"> · {familiesText(f)}</span>}
      {f.subscribes && <span title="subscribe requests spent on this connection in the last hour / the venue's budget"> · subscribes <span className="num">{f.subscribes.lastHour}/{f.subscribes.budgetPerHour}</span></span>}
      <Assumptions f={f} />
    </span>
  );
}

/**
 * The desk relay's own health (source=relay): "relay up, Deribit BTC reconnecting" is the venue's
 * fault, "relay unreachable" the relay's; the feeds' states alone cannot tell them apart.
 */
function RelayStatus() {
  const q = useQuery({ queryKey: ['relay-health'], queryFn: () => fetchServerInfo(), refetchInterval: 2_000, retry: false, staleTime: 0 });
  const ups = q.data?.relay;
  const down = q.isError || (q.data !== undefined && ups === null);
  const s = ups ? relaySummary(ups) : null;
  const state = down ? 'down' : s === null ? 'pending' : s.ok ? 'up' : 'venue-down';
  const label = down ? (q.isError ? 'relay unreachable' : 'not a relay') : (s?.text ?? 'relay: asking…');
  return (
    <span className="item" data-testid="relay-status" data-state={state} title="the desk relay and its upstream connection to each venue">
      <span className={`dot ${state === 'up' ? 'connected' : state === 'venue-down' ? 'stale' : state === 'down' ? 'down' : 'connecting'}`} />{label}
    </span>
  );
}

/**
 * Per-feed state and data age, drops, exclusions, engine restarts, venues in and out. It wraps between
 * items rather than cutting them; a phone gets the summary (feed state and age, valuation time).
 */
export function StatusBar() {
  const phone = useViewport().layout === 'phone';
  const now = useNow(1000);
  const store = useGexStoreApi();
  const feeds = useGex((s) => s.feeds);
  const restarts = useGex((s) => s.workerRestarts);
  const r = useGex((s) => s.result);
  const relay = useGex((s) => s.view.source === 'relay');
  const { healthReceivedAtMs } = store.getState();
  const extraAge = healthReceivedAtMs === null ? 0 : Math.max(0, now - healthReceivedAtMs);
  const excludedEngine = r ? sum(r.gex.excluded) : 0;
  return (
    <footer className="status">
      <span data-testid="feed-status" className="item">
        {feeds.length === 0 ? <span><span className={`dot ${r ? 'connected' : 'connecting'}`} />{r ? 'feed health pending' : 'connecting…'}</span> : feeds.map((f) => <Feed key={f.venue} f={f} extraAge={extraAge} compact={phone || feeds.length > 1} />)}
      </span>
      {relay && <RelayStatus />}
      {r && (
        <>
          <span className={`item${r.excludedVenues.length === 0 ? ' hide-phone' : ''}`}>venues <b>{r.includedVenues.join(', ') || 'none'}</b>
            {r.excludedVenues.length > 0 && <> · left out {r.excludedVenues.map((v) => `${v.venue} (${v.reason})`).join(', ')}</>}
          </span>
          <span className="item hide-kiosk hide-phone" title={detail(r.gex.excluded as unknown as Record<string, number>) || 'none'}>
            lines <b className="num">{r.gex.includedLines}</b> in · <span className="num">{excludedEngine}</span> excluded
          </span>
          <span className="item hide-kiosk hide-phone">{r.spotSource}</span>
          <span className="item" data-testid="result-stamp" data-seq={r.seq} data-computed-at={r.computedAtMs} data-frame-at={r.newestFrameAtMs ?? ''} data-now-ms={r.gex.nowMs}
            data-model={r.selection.model}>
            valued at <b className="num">{fmtTimeUtc(r.gex.nowMs)}</b> UTC
          </span>
        </>
      )}
      <span className={`item${restarts === 0 ? ' hide-phone' : ''}`}>engine restarts <b className="num">{restarts}</b></span>
    </footer>
  );
}

/** Lines in per option family (OKX sums its coin- and USD-margined families), e.g. `BTC-USD 140/150 · BTC-USD_UM 90/96`. */
const familiesText = (f: FeedHealth) =>
  (f.families ?? []).map((x) => `${x.family}${x.settleCurrency ? ` (${x.settleCurrency})` : ''} ${x.linesIn}/${x.lines}`).join(' · ');

/** What a venue's figures assume because the venue did not say: always shown beside it. */
function Assumptions({ f }: { f: FeedHealth }) {
  return (f.assumptions ?? []).map((a) => <span key={a} data-testid="feed-assumption" title="an assumption the figures rest on"> · ⚑ {a}</span>);
}
