/**
 * Issue 16, the page on a desk relay: a page served by a relay (`--source live` in front of the e2e
 * simulator) uses it without being told (source=relay, the RELAY badge), shows figures, and its status
 * bar tells the venue being down (the relay answers and names it) from the relay being down.
 */
import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../server/server.ts';
import { simPost, waitForFigures } from './helpers.ts';

test.describe('desk relay', () => {
  let relay: RunningServer | undefined;

  test.afterEach(async ({ request }) => {
    await simPost(request, '/__sim/clear');
    await relay?.close();
  });

  test('a page served by the relay says RELAY and tells the venue down from the relay down', async ({ page, baseURL, request }) => {
    relay = await startServer({ source: 'live', port: 0, serveDir: 'dist', log: () => undefined, relay: { upstreamBase: baseURL!.replace(/^http/, 'ws'), heartbeatS: 1 } });
    await page.goto(`${relay.url}/`);
    await expect(page.getByTestId('source')).toHaveText('RELAY');
    await waitForFigures(page);
    const status = page.getByTestId('relay-status');
    await expect(status).toHaveAttribute('data-state', 'up', { timeout: 20_000 });
    await expect(status).toContainText('deribit BTC open');
    // the venue goes silent: the relay is up and names it
    await simPost(request, '/__sim/fault', { kind: 'silent', venue: 'deribit' });
    await expect(status).toHaveAttribute('data-state', 'venue-down', { timeout: 30_000 });
    await expect(status).toContainText(/deribit BTC (silent|reconnecting)/);
    await simPost(request, '/__sim/clear');
    await expect(status).toHaveAttribute('data-state', 'up', { timeout: 30_000 });
    // the relay goes: the page says so, not the venue
    await relay.close();
    relay = undefined;
    await expect(status).toHaveAttribute('data-state', 'down', { timeout: 20_000 });
    await expect(status).toContainText('relay unreachable');
  });
});
