/**
 * The flow model's tape in Chromium (issue 13, "Performance"): the built app against the simulator at
 * a busy pace (GEXDESK_BENCH_TAPE_TPM trades a minute on Deribit, default 20: about 200,000 BTC trades
 * in the 7-day window). First the history fill from Deribit's history method over the socket, paced
 * as the feed paces it (how long a week takes at the venue's rate); then a reload, whose worker reads
 * the week back from the browser's IndexedDB: the time from the reload to figures counting the whole
 * stored tape (page boot included) bounds the worker's load, sum and recompute.
 */
import { chromium, type Page } from '@playwright/test';
import { join } from 'node:path';
import { startServer } from '../server/server.ts';
import { buildApp, root, type Figure } from './lib.ts';

const outDir = join(root, 'bench', 'out', 'tape-dist');
const START = Date.UTC(2026, 11, 9, 13, 30);

const countedOf = async (page: Page) => Number(((await page.getByTestId('positioning-trades').innerText()).split(' ')[0] ?? '').replace(/,/g, '')) || 0;

export async function run(): Promise<Figure[]> {
  const tpm = Number(process.env.GEXDESK_BENCH_TAPE_TPM ?? 20);
  buildApp(outDir);
  const server = await startServer({ source: 'sim', seed: 42, speed: 1, port: 0, serveDir: outDir, startMs: START, trades: { tradesPerMinute: tpm } });
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const requests = async () => ((await (await fetch(`${server.url}/__gexdesk/info`)).json()) as { tradeHistoryRequests: Record<string, number> }).tradeHistoryRequests.deribit ?? 0;
  try {
    const page = await (await browser.newContext({ viewport: { width: 1920, height: 1080 } })).newPage();
    const t0 = Date.now();
    await page.goto(`${server.url}/?source=sim&venue=deribit&currency=BTC&model=flow`);
    await page.getByTestId('history-progress').waitFor({ state: 'visible', timeout: 60_000 });
    await page.getByTestId('history-progress').waitFor({ state: 'hidden', timeout: 600_000 });
    await page.locator('[data-testid="positioning-panel"][data-full="1"]').waitFor({ timeout: 60_000 });
    const fillS = (Date.now() - t0) / 1000;
    const pages = await requests();
    const counted = await countedOf(page);
    // The last pages written (every 2 s), then the reload.
    await page.waitForTimeout(3_000);
    const r0 = Date.now();
    await page.reload();
    await page.getByTestId('spot').filter({ hasText: /\d/ }).waitFor({ timeout: 60_000 });
    const firstFigures = Date.now();
    let loaded: number | null = null;
    for (;;) {
      const full = (await page.getByTestId('positioning-panel').getAttribute('data-full')) === '1';
      const all = (await countedOf(page)) >= counted * 0.99;
      if (all && loaded === null) loaded = Date.now();
      if (full && all) break;
      if (Date.now() - firstFigures > 120_000) throw new Error('the stored tape never came back');
      await page.waitForTimeout(20);
    }
    const done = Date.now();
    return [
      { name: 'trades a minute on the simulated Deribit (BTC)', value: tpm, unit: '' },
      { name: 'history fill of the 7-day window, page load to full window', value: fillS, unit: 's' },
      { name: 'history pages fetched (1,000 trades each)', value: pages, unit: 'pages' },
      { name: 'trades counted on the lines in the sums', value: counted, unit: 'trades' },
      { name: 'reload: to the first figures', value: firstFigures - r0, unit: 'ms' },
      { name: 'reload: to figures counting the whole stored week (page boot, IndexedDB read, sums, recompute)', value: (loaded ?? done) - r0, unit: 'ms (target < 2000)' },
      { name: 'reload: to the window full again (the tail since the last write fetched)', value: done - r0, unit: 'ms' },
      { name: 'history pages fetched on the reload', value: (await requests()) - pages, unit: 'pages' },
    ];
  } finally {
    await browser.close();
    await server.close();
  }
}
