/**
 * Issue 15, time and attention, against a simulator of its own with a fixed start (seed 42, Friday
 * 6 March 2026 06:00 UTC), so its market is the same every run, driven by its clock (`expireAt` jumps
 * forward, the only clock control the server has; at 1x between jumps):
 *  - GEX over time: the heatmap fills a column a minute, survives a reload without a gap, the scrubber
 *    shows a past minute marked as the past and returns to live, the priors appear once the history
 *    holds them;
 *  - by expiry: a click on an expiry's bar selects it in the link (and again: all expiries);
 *  - export: the CSV's numbers are the page's, files are named with the view and its venue time;
 *  - alerts: each kind fires once on a scripted move of the simulator, at the venue time its new state
 *    has held 30 s, and not while a fault has made the feed stale.
 * One page for the serial tests where it can; the server is started here, in the runner's process.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { startServer, type RunningServer } from '../server/server.ts';
import { seriesOf, storedHistory, waitForFigures, waitForSettledFigures } from './helpers.ts';

const START = Date.UTC(2026, 2, 6, 6, 0, 0);
const MIN = 60_000;
/**
 * Moves of the simulator (seed 42, START, its trading off: see the server below) that change one state
 * each, found with the engine over the simulator (`scripts/sim-moves.ts --trades-per-minute 0`, then
 * `--step 5 --around` each candidate): a spot jump in the 15 s before each of these instants.
 *  - CALL_WALL: the call wall 80,000 -> 90,000 (nothing else changes; 90,000 holds 73 min; it flapped
 *    in the 15 s before, between two of the test's jumps);
 *  - FLIP: total net GEX positive -> negative and spot from above zero gamma to below (holds 38 min);
 *  - PUT_WALL: the put wall 80,000 -> 75,000 (holds 9 min).
 */
const CALL_WALL = 1773178510000; // 2026-03-10 21:35:10 UTC
const FLIP = 1773187580000; // 2026-03-11 00:06:20 UTC
const PUT_WALL = 1773318100000; // 2026-03-12 12:21:40 UTC

let server: RunningServer;
let page: Page;

test.describe.configure({ mode: 'serial' });
test.setTimeout(120_000);

test.beforeAll(async ({ browser }) => {
  // No trading: open interest then stays as listed, so after a jump of hours the page's open interest
  // (read every 30 s of wall time) is the simulator's, and the scripted moves are where the script says.
  server = await startServer({ source: 'sim', seed: 42, speed: 1, port: 0, serveDir: 'dist', startMs: START, trades: { tradesPerMinute: 0 } });
  page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 }, acceptDownloads: true })).newPage();
});
test.afterAll(async () => {
  await page?.context().close();
  await server?.close();
});

const stampNow = async (p: Page) => Number(await p.getByTestId('result-stamp').getAttribute('data-now-ms'));
const search = (p: Page) => new URL(p.url()).searchParams;

/** The simulator's clock now. */
async function simNow(request: APIRequestContext): Promise<number> {
  return ((await (await request.get(`${server.url}/__gexdesk/info`)).json()) as { simTimeMs: number }).simTimeMs;
}

/** Moves the simulator's clock forward to `t` and waits until the page shows figures valued at or after it. */
async function jumpTo(request: APIRequestContext, t: number): Promise<void> {
  const res = await request.post(`${server.url}/__sim/fault`, { data: { kind: 'expireAt', expiryMs: t } });
  expect(res.ok(), `expireAt ${new Date(t).toISOString()}: ${res.status()}`).toBe(true);
  await expect.poll(() => stampNow(page), { timeout: 20_000, message: `figures valued at ${new Date(t).toISOString()}` }).toBeGreaterThanOrEqual(t);
}

async function fault(request: APIRequestContext, path: string, body?: object): Promise<void> {
  const res = await request.post(`${server.url}${path}`, body ? { data: body } : {});
  expect(res.ok(), `${path} -> ${res.status()}`).toBe(true);
}

/** The heatmap's minutes: first, last and how many (no gap: count = span in minutes + 1). */
async function heatmapMinutes(): Promise<{ first: number; last: number; count: number }> {
  const el = page.getByTestId('heatmap-minutes');
  const [first, last, count] = await el.evaluate((e) => ['data-first', 'data-last', 'data-count'].map((a) => Number(e.getAttribute(a))));
  return { first, last, count };
}

test('GEX over time: the heatmap fills a minute at a time, survives a reload without a gap; the scrubber shows the past; priors appear', async ({ request }) => {
  await page.goto(`${server.url}/?source=sim&history=heatmap`);
  await waitForFigures(page);
  await expect(page.getByTestId('chart-gex-heatmap').locator('.canvas-chart')).toBeVisible({ timeout: 15_000 });
  const m0 = Math.floor((await stampNow(page)) / MIN) * MIN;
  // Three more minutes, each jump to the middle of the next minute (the clock runs at 1x between).
  for (let k = 1; k <= 3; k++) await jumpTo(request, m0 + k * MIN + 30_000);
  await expect.poll(async () => (await heatmapMinutes()).count).toBe(4);
  const before = await heatmapMinutes();
  expect(before).toEqual({ first: m0, last: m0 + 3 * MIN, count: 4 });
  // Written to IndexedDB as they came.
  await expect.poll(async () => (await storedHistory(page, seriesOf())).minutes).toEqual([0, 1, 2, 3].map((k) => m0 + k * MIN));

  // A reload: the same columns come back, and the next minute joins them with no gap.
  await page.reload();
  await waitForFigures(page);
  await expect.poll(async () => (await heatmapMinutes()).first, { timeout: 10_000 }).toBe(m0);
  await jumpTo(request, m0 + 4 * MIN + 30_000);
  await expect.poll(heatmapMinutes).toEqual({ first: m0, last: m0 + 4 * MIN, count: 5 });

  // The scrubber: two minutes back, every view shows that minute, marked as the past.
  const scrubber = page.getByTestId('history-scrubber');
  await scrubber.focus();
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('ArrowLeft');
  const past = m0 + 2 * MIN;
  const badge = page.getByTestId('past-badge');
  await expect(badge).toBeVisible();
  await expect(badge).toHaveAttribute('data-t', String(past));
  await expect(badge).toContainText(`PAST 2026-03-06 ${new Date(past).toISOString().slice(11, 16)} UTC`);
  await expect(page.getByTestId('app')).toHaveClass(/is-past/);
  const chartNow = Number(await page.getByTestId('chart-stamp').getAttribute('data-now-ms'));
  expect(Math.floor(chartNow / MIN) * MIN).toBe(past);
  await expect(page.getByTestId('chart-gamma-profile')).toContainText('Not kept for past minutes');
  // The result stamp (the status bar) stays live: the feed is not the past.
  expect(await stampNow(page)).toBeGreaterThanOrEqual(m0 + 4 * MIN);
  await page.getByTestId('back-to-live').click();
  await expect(badge).toHaveCount(0);
  await expect(page.getByTestId('app')).not.toHaveClass(/is-past/);
  await expect.poll(async () => Math.floor(Number(await page.getByTestId('chart-stamp').getAttribute('data-now-ms')) / MIN) * MIN).toBe(m0 + 4 * MIN);

  // Priors, switched on in the page (the link follows): 1 minute ago now; all four once the history
  // holds 30 minutes (jumps to 15, 25, 29 and 30 minutes after m0).
  await page.getByTestId('priors-toggle').click();
  await expect.poll(() => search(page).get('priors')).toBe('1,5,15,30');
  const priors = () => page.getByTestId('chart-stamp').getAttribute('data-priors');
  await expect.poll(priors).toBe('1');
  for (const k of [15, 25, 29, 30]) await jumpTo(request, m0 + k * MIN + 30_000);
  await expect.poll(priors).toBe('1,5,15,30');
  await expect(page.getByTestId('priors-legend')).toContainText('ago 1 5 15 30 min');
});

test('by expiry: a click on an expiry bar selects it in the link, again all; the next 24 h share is named; strike x expiry drawn', async () => {
  await page.getByTestId('history-tab-expiry').click();
  await expect.poll(() => search(page).get('history')).toBe('expiry');
  const chart = page.getByTestId('chart-gex-by-expiry');
  await expect.poll(() => chart.locator('.canvas-chart').getAttribute('data-bars').then(Number), { timeout: 10_000 }).toBeGreaterThan(3);
  await expect(page.getByTestId('gex-next-24h')).toHaveText(/^next 24 h: \d+% of GEX \(\d+ expir(y|ies)\)$/);
  // The first expiry's label sits under its bar: a click above it, in the plot.
  const label = chart.locator('.axis-tick[data-axis="x"]').first();
  const name = (await label.innerText()).trim();
  const lb = (await label.boundingBox())!;
  const cb = (await chart.boundingBox())!;
  await page.mouse.click(lb.x + lb.width / 2, cb.y + cb.height * 0.4);
  await expect.poll(() => search(page).get('expiries')).toBe(name);
  await expect(page.getByTestId('expiry-summary')).toHaveText(name);
  await expect(chart.locator(`[data-testid="expiry-bar"][data-label="${name}"]`)).toHaveAttribute('aria-pressed', 'true');
  await page.mouse.click(lb.x + lb.width / 2, cb.y + cb.height * 0.4);
  await expect.poll(() => search(page).get('expiries')).toBe('all');

  await page.getByTestId('history-tab-strikes').click();
  await expect.poll(() => page.getByTestId('chart-strike-expiry').locator('.canvas-chart').getAttribute('data-cells').then(Number), { timeout: 10_000 }).toBeGreaterThan(50);
});

/** The lines of one CSV section (after its title line and header), as numbers by column. */
function section(csv: string, title: RegExp): number[][] {
  const blocks = csv.split('\n\n');
  const block = blocks.find((b) => title.test(b.split('\n')[0]));
  expect(block, `section ${title}`).toBeDefined();
  return block!.split('\n').slice(2).filter((l) => l.length > 0).map((l) => l.split(',').map(Number));
}

test('export: the CSV holds the numbers the page shows, the PNG is the chart, both named with the view and its venue time', async ({ request }) => {
  await page.getByTestId('history-tab-spot').click();
  await fault(request, '/__sim/pause');
  try {
    const { figures, nowMs } = await waitForSettledFigures(page);
    const stamp = new Date(nowMs).toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
    await page.getByTestId('export-menu').locator('summary').click();
    const [csvFile] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    expect(csvFile.suggestedFilename()).toBe(`gexdesk-BTC-deribit-classic-${stamp}.csv`);
    const csv = readFileSync(await csvFile.path(), 'utf8');
    const levels = new Map(csv.split('\n\n').find((b) => b.startsWith('key levels'))!.split('\n').slice(2).map((l) => l.split(',') as [string, string]));
    const fmt = (v: string, digits: number) => Number(v).toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    expect(fmt(levels.get('spot')!, 2)).toBe(figures.spot);
    expect(fmt(levels.get('zero gamma')!, 0)).toBe(figures['zero-gamma']);
    expect(fmt(levels.get('call wall')!, 0)).toBe(figures['call-wall']);
    expect(fmt(levels.get('put wall')!, 0)).toBe(figures['put-wall']);
    expect(levels.get('regime')).toBe(figures.regime.split(' ')[0].toLowerCase());
    // The ladder: every cell the page shows (its exact value in data-usd), at the same move and horizon.
    const ladder = section(csv, /^scenario ladder usd/);
    const cells = await page.getByTestId('scenario-ladder').locator('td[data-usd]').evaluateAll((tds) => tds.map((td) => [Number(td.getAttribute('data-move')), Number(td.getAttribute('data-usd'))]));
    expect(cells.length).toBe(55);
    const fromCsv = ladder.flatMap(([move, ...usd]) => usd.map((v) => [move, v]));
    expect(fromCsv).toEqual(cells);
    // By strike: the bar under the call wall's strike, as its tooltip shows it.
    const byStrike = section(csv, /^by strike/);
    expect(byStrike.length).toBe(Number(await page.getByTestId('chart-gamma-by-strike').locator('.canvas-chart').getAttribute('data-bars')));
    const wall = Number(levels.get('call wall'));
    const row = byStrike.find((r) => r[0] === wall)!;
    const chart = page.getByTestId('chart-gamma-by-strike');
    const tick = (await chart.locator('.axis-tick[data-axis="x"]').evaluateAll((els) => els.map((e) => [e.textContent, e.getBoundingClientRect().x + e.getBoundingClientRect().width / 2]))) as [string, number][];
    // The x axis is linear: place the wall between two labelled strikes.
    const [[t1, x1], [t2, x2]] = tick.slice(0, 2).map(([t, x]) => [Number(t!.replace(/,/g, '')), x] as const);
    const cb = (await chart.boundingBox())!;
    await page.mouse.move(x1 + ((wall - t1) / (t2 - t1)) * (x2 - x1), cb.y + cb.height / 2);
    await expect(chart.locator('.tip')).toContainText(`Strike ${wall.toLocaleString('en-US')}`);
    await expect(chart.locator('.tip')).toContainText(`Net (exact)${Math.round(row[3]).toLocaleString('en-US')} USD`);

    const [png] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-png').filter({ hasText: 'Gamma by strike' }).click()]);
    expect(png.suggestedFilename()).toBe(`gexdesk-BTC-deribit-classic-${stamp}-by-strike.png`);
    const bytes = readFileSync(await png.path());
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    // IHDR: the chart's width, and its height with the title line.
    const box = (await chart.locator('canvas').boundingBox())!;
    expect(bytes.readUInt32BE(16)).toBe(Math.round(box.width));
    expect(bytes.readUInt32BE(20)).toBe(Math.round(box.height) + 28);
  } finally {
    await fault(request, '/__sim/resume');
  }
});

/** The alert log's entries of a kind: venue times and the state each says the rule moved to. */
async function alertsOf(kind: string): Promise<{ atMs: number; sinceMs: number; to: string }[]> {
  return page.locator(`[data-testid="alert-entry"][data-kind="${kind}"]`).evaluateAll((els) => els.map((e) => ({
    atMs: Number(e.getAttribute('data-at-ms')), sinceMs: Number(e.getAttribute('data-since-ms')), to: e.getAttribute('data-to') ?? '',
  })));
}

/**
 * Opens the page on `rules` 10 minutes before move `t` (the listing settled), then the script: the old
 * state seen 120 s and 75 s before the move (45 s: settled), the new one 15 s after it, then 60 s after.
 */
async function scriptMove(request: APIRequestContext, t: number, rules: string): Promise<void> {
  await fault(request, '/__sim/fault', { kind: 'expireAt', expiryMs: t - 10 * MIN });
  await page.goto(`${server.url}/?source=sim&alerts=${rules}`);
  await waitForFigures(page);
  await expect.poll(() => stampNow(page), { timeout: 20_000 }).toBeGreaterThanOrEqual(t - 10 * MIN);
  await jumpTo(request, t - 120_000);
  await jumpTo(request, t - 75_000);
}

test('alerts: each kind fires once, when its new state has held 30 s of venue time, on a scripted move; never while the feed is stale', async ({ request }) => {
  test.setTimeout(180_000);
  const entries = page.getByTestId('alert-entry');
  // Call wall, and hedge flow above 0.01x the ±1 % depth (above from the start: it alerts once settled).
  await scriptMove(request, CALL_WALL, 'callwall,flow:0.01');
  await expect.poll(() => alertsOf('hedgeFlow')).toHaveLength(1);
  const [flow] = await alertsOf('hedgeFlow');
  expect(flow.atMs - flow.sinceMs).toBeGreaterThanOrEqual(30_000);
  expect(await alertsOf('callWall')).toEqual([]);
  await jumpTo(request, CALL_WALL + 15_000);
  // Figures valued after the jump may still mix in data of before it (venue time is the newest frame's):
  // the new wall is seen once the page shows it, and only then may the clock move on, or the hold
  // starts at the +60 s jump and the alert comes 30 s of wall time later.
  await expect(page.getByTestId('call-wall')).toHaveText('90,000');
  expect(await alertsOf('callWall')).toEqual([]);
  await jumpTo(request, CALL_WALL + 60_000);
  await expect.poll(() => alertsOf('callWall')).toHaveLength(1);
  const [wall] = await alertsOf('callWall');
  expect(wall.to).toBe('90000');
  await expect(page.getByTestId('call-wall')).toHaveText('90,000');
  // Fired at the first figures 30 s after the new wall was first seen: the jump to +60 s.
  expect(wall.sinceMs).toBeGreaterThanOrEqual(CALL_WALL + 15_000);
  expect(wall.sinceMs).toBeLessThan(CALL_WALL + 30_000);
  expect(wall.atMs).toBeGreaterThanOrEqual(CALL_WALL + 60_000);
  expect(wall.atMs).toBeLessThan(CALL_WALL + 75_000);
  await expect(page.getByTestId('alert-flash')).toBeVisible();
  await expect(entries).toHaveCount(2);

  // Regime and zero gamma: one move flips both.
  await scriptMove(request, FLIP, 'regime,zero');
  await jumpTo(request, FLIP + 15_000);
  // Both new states seen (as for the call wall above) before the clock moves on.
  await expect.poll(async () => {
    const [regime, spot, zero] = await Promise.all(['regime', 'spot', 'zero-gamma'].map((id) => page.getByTestId(id).innerText()));
    return regime === 'NEGATIVE GAMMA' && Number(spot.replace(/,/g, '')) < Number(zero.replace(/,/g, ''));
  }, { message: 'the flip seen' }).toBe(true);
  expect(await entries.count()).toBe(0);
  await jumpTo(request, FLIP + 60_000);
  await expect(entries).toHaveCount(2);
  for (const [kind, to] of [['regime', 'negative'], ['zeroGamma', 'below']]) {
    const list = await alertsOf(kind);
    expect(list.map((a) => a.to), kind).toEqual([to]);
    expect(list[0].sinceMs).toBeGreaterThanOrEqual(FLIP + 15_000);
    expect(list[0].atMs).toBeGreaterThanOrEqual(FLIP + 60_000);
    expect(list[0].atMs).toBeLessThan(FLIP + 75_000);
  }
  await expect(page.getByTestId('regime')).toHaveText('NEGATIVE GAMMA');

  // The put wall, with the feed silenced across the move: nothing while stale, and the 30 s hold
  // starts only once fresh figures come back.
  await scriptMove(request, PUT_WALL, 'putwall');
  await fault(request, '/__sim/fault', { kind: 'silent', venue: 'deribit' });
  await expect(page.getByTestId('stale-banner')).toBeVisible({ timeout: 30_000 });
  for (const dt of [15_000, 60_000]) await fault(request, '/__sim/fault', { kind: 'expireAt', expiryMs: PUT_WALL + dt });
  await page.waitForTimeout(3_000);
  expect(await entries.count()).toBe(0);
  await fault(request, '/__sim/clear');
  await expect(page.getByTestId('stale-banner')).toHaveCount(0, { timeout: 45_000 });
  await expect(page.getByTestId('put-wall')).toHaveText('75,000');
  // On the simulator's 100 ms steps (its frames are stamped at the step before the clock).
  const fresh = Math.ceil((await simNow(request)) / 100) * 100;
  expect(await entries.count()).toBe(0);
  await jumpTo(request, fresh + 45_000);
  await expect.poll(() => alertsOf('putWall')).toHaveLength(1);
  const [put] = await alertsOf('putWall');
  expect(put.to).toBe('75000');
  // Held from fresh figures after the fault, not from the move itself (+15 s, +60 s while silent).
  expect(put.sinceMs).toBeGreaterThan(PUT_WALL + 60_000);
  expect(put.atMs).toBeGreaterThanOrEqual(fresh + 45_000);
  await expect(entries).toHaveCount(1);
});
