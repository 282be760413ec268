/**
 * Beyond gamma in the page (issue 14), against the simulator: the DEX/VEX/CHEX switch, the scenario
 * ladder with the next expiry named, the after-the-next-expiry switch changing the figures, the
 * feedback sentence, and the expiring-lines note in the hour before a simulated 08:00 expiry with
 * zero gamma holding still there.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { startServer } from '../server/server.ts';
import { countMarks, resetSim, simPost, waitForFigures } from './helpers.ts';

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

const panelTitle = (page: Page, area: string) => page.locator(`[data-panel="${area}"] h2 .title`);
const search = (page: Page) => new URL(page.url()).searchParams;

test('the strike chart switches between GEX, DEX, VEX and CHEX, and the link follows', async ({ page }) => {
  await page.goto('/?source=sim');
  await waitForFigures(page);
  await expect(panelTitle(page, 'strike')).toHaveText('Gamma by strike');
  for (const [k, title] of [['dex', 'Delta exposure by strike'], ['vex', 'Vanna exposure by strike'], ['chex', 'Charm exposure by strike'], ['gex', 'Gamma by strike']] as const) {
    await page.getByTestId(`exposure-${k}`).click();
    await expect(panelTitle(page, 'strike')).toHaveText(title);
    await expect(page.getByTestId(`exposure-${k}`)).toHaveAttribute('aria-pressed', 'true');
    await expect.poll(() => search(page).get('exposure') ?? 'gex').toBe(k);
    await expect.poll(async () => (await countMarks(page, 'chart-gamma-by-strike')).bars, { timeout: 10_000 }).toBeGreaterThan(10);
  }
  // A shared link opens on the exposure it names.
  await page.goto('/?source=sim&exposure=vex');
  await waitForFigures(page);
  await expect(panelTitle(page, 'strike')).toHaveText('Vanna exposure by strike');
});

test('the scenario ladder names the next expiry, picks a vol shift, and after-the-next-expiry changes every figure', async ({ page }) => {
  await page.goto('/?source=sim');
  await waitForFigures(page);
  const ladder = page.getByTestId('scenario-ladder');
  await expect(ladder).toBeVisible();
  // 11 moves x 5 horizons, the last "to expiry", with the expiry named above the table
  await expect(ladder.locator('td[data-usd]')).toHaveCount(55);
  await expect(ladder.locator('thead th').last()).toContainText('to expiry');
  const caption = page.getByTestId('ladder-next-expiry');
  await expect(caption).toHaveText(/^next expiry \d{1,2}[A-Z]{3}\d{2}, \d{1,2} [A-Z][a-z]{2} 08:00 UTC$/);
  const nextLabel = /next expiry (\S+),/.exec(await caption.innerText())![1];
  // every cell says who trades how much, in coin and USD
  await expect(ladder.locator('td[data-usd]').first()).toHaveAttribute('title', /dealers (buy|sell) [\d,.]+ BTC \([+-]?\$[\d.]+[KMB]?\)/);
  // the (0 %, now) cell is exactly 0
  await expect(ladder.locator('td[data-move="0"][data-hours="0"]')).toHaveAttribute('data-usd', '0');

  // another vol shift: the link follows and the cells change
  const before = await ladder.locator('td[data-move="0.02"]').allInnerTexts();
  await page.getByTestId('ladder-vol-+2').click();
  await expect.poll(() => search(page).get('vol')).toBe('2');
  await expect.poll(() => ladder.locator('td[data-move="0.02"]').allInnerTexts()).not.toEqual(before);

  // the feedback sentence, labelled an estimate
  await expect(page.getByTestId('feedback-estimate')).toHaveText(/^estimate with dealer hedging: -2% (becomes -\d+(\.\d)?%|runs away beyond visible depth|does not settle), \+2% (becomes \+?-?\d+(\.\d)?%|runs away beyond visible depth|does not settle)$/);
  await expect(page.getByTestId('feedback-estimate')).toHaveAttribute('title', /ignores replenishing liquidity/);

  // after the next expiry: badge, link, the net GEX and the ladder's next expiry all change
  const netBefore = await page.getByTestId('net-gex').innerText();
  await page.getByTestId('after-next-expiry').click();
  await expect(page.getByTestId('after-expiry-badge')).toContainText(`AFTER ${nextLabel}`);
  await expect.poll(() => search(page).get('after')).toBe('next');
  await expect(caption).not.toContainText(nextLabel);
  await expect.poll(() => page.getByTestId('net-gex').innerText()).not.toBe(netBefore);
  await page.getByTestId('after-next-expiry').click();
  await expect(page.getByTestId('after-expiry-badge')).toHaveCount(0);
});

test('the hour before 08:00: expiring lines are counted apart with their pin, zero gamma holds still, and can be included', async ({ page, request }) => {
  // A simulator of its own: the jump below moves its clock into the hour before an expiry for good (the
  // clock only goes forward), and on the shared server every later spec would run in that hour, its
  // figures leaving the expiring lines out. Its trading is off: open interest moves with trades and
  // Deribit's is refreshed every 30 s, so a refresh could land inside the 8 s measured, and zero gamma
  // is to hold still with spot. A fixed start two hours before an 08:00 expiry, whatever the time of day.
  const server = await startServer({ source: 'sim', seed: 42, speed: 1, port: 0, serveDir: 'dist', startMs: Date.UTC(2026, 2, 6, 6, 0, 0), trades: { tradesPerMinute: 0 } });
  try {
    await expiringLines(page, request, server.url);
  } finally {
    await server.close();
  }
});

async function expiringLines(page: Page, request: APIRequestContext, base: string): Promise<void> {
  await page.goto(`${base}/?source=sim`);
  await waitForFigures(page);
  await expect(page.getByTestId('expiring-note')).toHaveCount(0);
  // The simulator's clock to 30 minutes before its next 08:00 expiry.
  const jump = await simPost(request, `${base}/__sim/fault`, { kind: 'expireAt', beforeMs: 30 * 60_000 });
  const note = page.getByTestId('expiring-note');
  await expect(note).toHaveText(/^\d+ lines expire within the hour: \d+% of gross γ, pin [\d,]+ — left out of the figures/, { timeout: 15_000 });
  const stampAt = async () => Number(await page.getByTestId('result-stamp').getAttribute('data-now-ms'));
  await expect.poll(stampAt, { timeout: 10_000 }).toBeGreaterThanOrEqual(jump.simTimeMs!);

  // Zero gamma through 8 s of the last half hour: no flicker (it moves with spot only, by basis points).
  const levels: number[] = [];
  for (let i = 0; i < 32; i++) {
    const t = (await page.getByTestId('zero-gamma').innerText()).replace(/,/g, '');
    if (/^\d+$/.test(t)) levels.push(Number(t));
    await page.waitForTimeout(250);
  }
  expect(levels.length).toBeGreaterThan(20);
  expect((Math.max(...levels) - Math.min(...levels)) / Math.min(...levels)).toBeLessThan(0.003);

  // Included on request (and in the link): the note says so and the figures change.
  const net = await page.getByTestId('net-gex').innerText();
  await page.getByTestId('expiring-toggle').click();
  await expect(note).toContainText('included in the figures');
  await expect.poll(() => search(page).get('expiring')).toBe('1');
  await expect.poll(() => page.getByTestId('net-gex').innerText()).not.toBe(net);
}
