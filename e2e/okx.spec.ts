import { expect, test } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { resetSim, waitForFigures } from './helpers.ts';

mkdirSync('test-results/screens', { recursive: true });

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

/**
 * Issue 10: the dashboard on `?source=sim&venue=okx` against a simulator that serves OKX `books` as the
 * venue does since 23 June 2026 (`checksum: 0`, no pushed snapshot): the perp book holds with 0 drops,
 * both option families are in the figures and named in the status line, and the subscribe requests
 * spent are shown against the venue's hourly budget.
 */
test('OKX: the perp book holds with 0 drops; coin- and USD-margined lines are in and counted per family', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?source=sim&venue=okx');
  await waitForFigures(page);
  const feed = page.locator('[data-feed="okx"]');
  await expect(feed).toHaveAttribute('data-state', 'connected');
  const flow = page.getByTestId('chart-hedge-flow');
  await expect(flow).not.toContainText('book depth unknown', { timeout: 15_000 });
  const families = page.getByTestId('feed-families');
  await expect(families).toContainText('BTC-USD (BTC)');
  await expect(families).toContainText('BTC-USD_UM (USD)');
  // "BTC-USD (BTC) 600/620 · BTC-USD_UM (USD) 280/290": most listed lines of each family are in
  await expect.poll(async () => {
    const m = [...(await families.innerText()).matchAll(/(\d+)\/(\d+)/g)].map((x) => [Number(x[1]), Number(x[2])]);
    return m.length === 2 && m.every(([inn, listed]) => listed > 50 && inn > 0.9 * listed);
  }, { timeout: 20_000 }).toBe(true);
  await expect(feed).toContainText(/subscribes \d+\/480/);
  // 30 s (several hundred book updates): depth all along, no drop, no further subscribe
  const subs = async () => Number(/subscribes (\d+)\/480/.exec(await feed.innerText())![1]);
  const first = await subs();
  for (let k = 0; k < 15; k++) {
    await page.waitForTimeout(2_000);
    await expect(feed).toContainText(/dropped 0\b/);
    await expect(flow).not.toContainText('book depth unknown');
  }
  expect(await subs()).toBe(first);
  await page.screenshot({ path: 'test-results/screens/okx.png' });
  expect(errors).toEqual([]);
});
