/**
 * The view on screen as files: a CSV of its tables (key levels, by strike, the gamma profile, the hedge
 * flows, the scenario ladder when there is one) from the same rows the charts draw, so its numbers are
 * the page's (full precision: the page rounds them for people), and each chart as a PNG. Files are
 * named with currency, venues, model and the venue time of the figures.
 */
import type { ResultMessage } from '../worker/protocol.ts';
import type { ViewState } from '../state/url.ts';
import { flowRows, ladderTable, profileRows, strikeRows, summedDepth } from './data.ts';

/** `gexdesk-BTC-deribit+okx-classic-20260306T090012Z` (venue time of the figures, UTC). */
export function exportName(r: Pick<ResultMessage, 'selection' | 'gex'>, what?: string): string {
  const t = Number.isFinite(r.gex.nowMs) ? new Date(r.gex.nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z') : 'unknown-time';
  const s = r.selection;
  return ['gexdesk', s.currency, s.venues.join('+'), s.model, t, what].filter(Boolean).join('-');
}

/** A number as CSV writes it: shortest exact form (what JavaScript prints), empty when unknown. */
const num = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? '' : String(v));
const cell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const line = (cells: (string | number | null)[]) => cells.map((c) => (typeof c === 'number' || c === null ? num(c) : cell(c))).join(',');

/**
 * The CSV of a result as the page shows it: strikes in the view's window, the drawn profile, the
 * flows with the summed perp depth, the ladder at the view's vol shift. `past` marks a past minute's
 * figures (those keep no profile, flows or ladder).
 */
export function viewCsv(r: ResultMessage, view: Pick<ViewState, 'profileRange' | 'ladderVol'>, past = false): string {
  const g = r.gex;
  const s = r.selection;
  const out: string[] = [];
  out.push(line(['gexdesk', past ? 'past minute' : 'live', s.source]));
  out.push(line(['currency', s.currency]), line(['venues', s.venues.join(' ')]), line(['model', s.model]));
  out.push(line(['valued at (venue time, UTC)', Number.isFinite(g.nowMs) ? new Date(g.nowMs).toISOString() : '']));
  out.push(line(['expiries', s.expiries.length === 0 ? 'all' : s.expiries.map((e) => new Date(e).toISOString()).join(' ')]));
  out.push('', 'key levels', line(['figure', 'value']));
  out.push(line(['spot', g.spot]), line(['zero gamma', g.zeroGammaLevel]), line(['call wall', g.callWall]), line(['put wall', g.putWall]));
  out.push(line(['largest abs gamma strike', g.largestAbsGammaStrike]), line(['net gex usd per 1%', g.totalNetGex]), line(['regime', g.regime]));

  const p = g.positioning;
  if (p) {
    // The flow model's positioning (an estimate): the window, trades counted, shares of dealer contracts.
    out.push('', 'positioning (flow model: an estimate)', line(['figure', 'value']));
    out.push(line(['window start (venue time UTC)', p.windowStartMs === null ? '' : new Date(p.windowStartMs).toISOString()]));
    for (const v of r.tape?.venues ?? []) out.push(line([`${v.venue} tape complete since (UTC)`, v.coveredFromMs === null ? '' : new Date(v.coveredFromMs).toISOString()]));
    out.push(line(['trades counted', p.trades]), line(['block trades', p.blockTrades]));
    out.push(line(['share seen whole', p.seenWhole]), line(['share seen in part', p.seenInPart]), line(['share assumed', p.assumed]));
  }

  const ghost = g.classicNetGex !== null;
  out.push('', `by strike (spot +-${Math.round(view.profileRange * 1000) / 10}%)`,
    line(['strike', 'call gex usd per 1%', 'put gex usd per 1%', 'net gex usd per 1%', ...(ghost ? ['net gex if classic usd per 1%'] : [])]));
  for (const x of strikeRows(g, view.profileRange)) out.push(line([x.strike, x.call, x.put, x.net, ...(ghost ? [x.classicNet] : [])]));

  if (past) return `${out.join('\n')}\n`;
  out.push('', 'gamma profile', line(['spot', 'total net gex usd per 1%']));
  for (const x of profileRows(g)) out.push(line([x.price, x.gex]));

  out.push('', 'hedge flow', line(['move', 'dealer units', 'dealer usd', 'perp depth coin', 'flow over depth']));
  for (const x of flowRows(g, summedDepth(r.perps).bands)) out.push(line([x.move, x.units, x.usd, x.depthCoin, x.ratio]));

  const ladder = ladderTable(g, view.ladderVol);
  if (ladder) {
    out.push('', `scenario ladder usd (vol shift ${Math.round(view.ladderVol * 10000) / 100} pts)`, line(['move', ...ladder.hours.map((h) => `+${Math.round(h * 100) / 100} h`)]));
    ladder.rows.forEach((row, m) => out.push(line([ladder.moves[m], ...row.map((c) => c.usd)])));
  }
  return `${out.join('\n')}\n`;
}

/** Saves `data` as a file named `name` (a download). */
export function download(name: string, data: Blob): void {
  const url = URL.createObjectURL(data);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.rel = 'noopener';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/**
 * A chart as an image: its canvas with the axis labels painted back on (they are HTML over it), under a
 * title line. Null when the element holds no chart canvas.
 */
export function chartImage(el: HTMLElement, title: string): Promise<Blob | null> {
  const chart = el.querySelector<HTMLElement>('.canvas-chart');
  const src = chart?.querySelector('canvas');
  if (!chart || !src) return Promise.resolve(null);
  const box = chart.getBoundingClientRect();
  const dpr = src.width / Math.max(1, box.width);
  const head = 28;
  const out = document.createElement('canvas');
  out.width = src.width;
  out.height = src.height + Math.round(head * dpr);
  const ctx = out.getContext('2d');
  if (!ctx) return Promise.resolve(null);
  ctx.fillStyle = '#121821';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, Math.round(head * dpr));
  ctx.scale(dpr, dpr);
  const font = getComputedStyle(chart).fontFamily;
  ctx.fillStyle = '#e8edf2';
  ctx.font = `600 13px ${font}`;
  ctx.textBaseline = 'middle';
  ctx.fillText(title, 8, head / 2);
  for (const label of chart.querySelectorAll<HTMLElement>('.axis-tick')) {
    const r = label.getBoundingClientRect();
    const st = getComputedStyle(label);
    ctx.font = `${st.fontSize} ${font}`;
    ctx.fillStyle = st.color;
    ctx.textAlign = 'center';
    ctx.fillText(label.textContent ?? '', r.left - box.left + r.width / 2, head + r.top - box.top + r.height / 2);
  }
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}
