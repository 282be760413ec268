/**
 * Issue 13, the flow model in Chromium against a simulator of its own (seed 42, trading knobs set
 * before any client connects): `model=flow` shows the positioning panel and, while the worker fills
 * the window from Deribit's trade history over the socket, the progress bar (cancel stops it, resume
 * goes on); then figures, with the
 * window full, trades counted and the classic ghost on the strike chart. A reload reads the tape back
 * from IndexedDB and fetches only the tail it does not hold: counted at the server
 * (`/__gexdesk/info` tradeHistoryRequests), not one page it already held.
 */
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from '../server/server.ts';
import { waitForFigures } from './helpers.ts';

const START = Date.UTC(2026, 11, 9, 13, 30);
const DAY = 86_400_000;
const WINDOW_DAYS = 2;

let server: RunningServer;

test.setTimeout(240_000);

test.beforeAll(async () => {
  // Two days of history at a busy pace: enough pages that the fill is seen under way.
  server = await startServer({ source: 'sim', seed: 42, speed: 1, port: 0, serveDir: 'dist', startMs: START, trades: { tradesPerMinute: 10, preHistoryDays: WINDOW_DAYS } });
});
test.afterAll(async () => {
  await server?.close();
});

async function historyRequests(): Promise<number> {
  const info = (await (await fetch(`${server.url}/__gexdesk/info`)).json()) as { tradeHistoryRequests: Record<string, number> };
  return info.tradeHistoryRequests.deribit ?? 0;
}

/** The tape's coverage as the worker stored it in IndexedDB (the spans of venue time it holds). */
function storedSpans(page: Page): Promise<{ fromMs: number; toMs: number }[]> {
  return page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('gexdesk-tape');
    open.onerror = () => resolve([]);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('tapes')) {
        db.close();
        resolve([]);
        return;
      }
      const get = db.transaction('tapes').objectStore('tapes').get('sim|deribit|BTC');
      get.onsuccess = () => {
        db.close();
        resolve((get.result?.spans ?? []) as { fromMs: number; toMs: number }[]);
      };
      get.onerror = () => resolve([]);
    };
  }));
}

test('model=flow: the positioning panel, the progress bar while history loads, then figures; a reload fetches only the tail', async ({ browser }) => {
  const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
  await page.goto(`${server.url}/?source=sim&venue=deribit&currency=BTC&model=flow&window=${WINDOW_DAYS}`);

  const panel = page.getByTestId('positioning-panel');
  await expect(panel).toBeVisible();
  await expect(panel.getByText('flow estimate')).toBeVisible();
  await expect(page.getByTestId('model-flow')).toHaveAttribute('aria-pressed', 'true');
  // The fill under way: a bar per venue with how far it is, and cancel.
  const progress = page.getByTestId('history-progress');
  await expect(progress).toBeVisible({ timeout: 30_000 });
  await expect(progress).toContainText(/Deribit: (reading the stored tape|[\d.]+ of 2 days held)/);
  await expect(page.getByTestId('history-cancel')).toBeVisible();
  // Until the window is full the panel says which window the figures cover.
  await expect(page.getByTestId('positioning-window')).toContainText('covers only');
  // Cancel stops the fill where it is (what it fetched stays); resume goes on.
  await page.getByTestId('history-cancel').click();
  await expect(page.getByTestId('history-cancelled')).toContainText(/Deribit: history stopped at .* \([\d,]+ trades\)/);
  await expect(progress).toBeHidden();
  await expect(page.getByTestId('positioning-window')).toContainText('covers only');
  await page.getByTestId('history-resume').click();
  await expect(page.getByTestId('history-cancelled')).toBeHidden();

  await waitForFigures(page);
  await expect(progress).toBeHidden({ timeout: 180_000 });
  await expect(page.getByTestId('positioning-window')).toHaveText(`window ${WINDOW_DAYS} d: Deribit full`);
  const trades = page.getByTestId('positioning-trades');
  await expect(trades).toHaveText(/^[\d,]+ trades counted \([\d,]+ block\)$/);
  const counted = Number((await trades.innerText()).split(' ')[0].replace(/,/g, ''));
  expect(counted).toBeGreaterThan(1000);
  const shares = page.getByTestId('positioning-shares');
  const share = async (k: string) => Number(await shares.getAttribute(k));
  expect((await share('data-whole')) + (await share('data-in-part')) + (await share('data-assumed'))).toBeCloseTo(1, 9);
  expect(await share('data-whole')).toBeGreaterThan(0);
  // The classic figure drawn beside the flow figure, and the chart labelled an estimate.
  const chart = page.getByTestId('chart-gamma-by-strike').locator('.canvas-chart');
  await expect(chart).toHaveAttribute('data-ghosts', /^[1-9]\d*$/);
  await expect(page.getByText('classic (ghost)')).toBeVisible();
  await expect(page.getByTestId('net-gex').locator('..')).toContainText('model: flow (estimate)');

  // The tape is in IndexedDB, its coverage reaching back over the window, before the reload.
  await expect.poll(async () => {
    const spans = await storedSpans(page);
    return spans.length === 1 ? spans[0].toMs - spans[0].fromMs : 0;
  }, { timeout: 30_000, message: 'the stored coverage spans the window' }).toBeGreaterThan(WINDOW_DAYS * DAY - 5 * 60_000);
  const before = await historyRequests();
  expect(before).toBeGreaterThan(3);

  await page.reload();
  await waitForFigures(page);
  await expect(page.getByTestId('positioning-window')).toHaveText(`window ${WINDOW_DAYS} d: Deribit full`, { timeout: 60_000 });
  await expect(page.getByTestId('history-progress')).toBeHidden();
  await expect(trades).toHaveText(/^[\d,]+ trades counted/);
  const again = Number((await trades.innerText()).split(' ')[0].replace(/,/g, ''));
  expect(again).toBeGreaterThan(counted * 0.9);
  // One request for the tail since the last write; none for what the stored tape holds.
  expect((await historyRequests()) - before).toBe(1);
  await page.context().close();
});
