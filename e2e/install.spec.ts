/**
 * Issue 17: the page can be installed (web app manifest, icons) and an offline start shows the last
 * figures marked as saved and stale, not a browser error. The offline start stops a server of its own
 * (the shared one keeps running for the other specs) and reloads the page: the service worker serves
 * the app's files, nothing answers on the network.
 */
import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from '../server/server.ts';
import { fmtSpot } from '../src/ui/format.ts';
import { waitForFigures } from './helpers.ts';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buf: Buffer): [number, number] {
  expect(buf.subarray(1, 4).toString('latin1')).toBe('PNG');
  return [buf.readUInt32BE(16), buf.readUInt32BE(20)];
}

test('installable: a web app manifest with 192 and 512 px icons (one maskable) and a service worker', async ({ page, request }) => {
  await page.goto('/?source=sim');
  const href = await page.locator('link[rel="manifest"]').getAttribute('href');
  expect(href).toBeTruthy();
  const res = await request.get(href!);
  expect(res.ok()).toBe(true);
  expect(res.headers()['content-type']).toContain('application/manifest+json');
  const manifest = (await res.json()) as { name: string; short_name: string; start_url: string; display: string; icons: { src: string; sizes: string; type: string; purpose?: string }[] };
  expect(manifest.short_name).toBe('gexdesk');
  expect(manifest.display).toBe('standalone');
  expect(manifest.start_url).toBe('/');
  const sizes = new Set<string>();
  for (const icon of manifest.icons) {
    const png = await request.get(`/${icon.src}`);
    expect(png.ok(), icon.src).toBe(true);
    expect(png.headers()['content-type']).toBe('image/png');
    const [w, h] = pngSize(await png.body());
    expect(`${w}x${h}`).toBe(icon.sizes);
    sizes.add(icon.sizes + (icon.purpose === 'maskable' ? ' maskable' : ''));
  }
  expect([...sizes].sort()).toEqual(['192x192', '512x512', '512x512 maskable']);
  // The service worker takes the page under its control (CSP allows it: worker-src 'self').
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller?.scriptURL ?? null), { timeout: 20_000 }).toMatch(/\/sw\.js$/);
});

test.describe('offline start', () => {
  let server: RunningServer | null = null;
  test.afterEach(async () => {
    await server?.close();
    server = null;
  });

  test('shows the last figures, marked as saved and stale, instead of a browser error', async ({ page }) => {
    server = await startServer({ source: 'sim', seed: 42, port: 0, serveDir: 'dist', log: () => undefined });
    const url = `http://127.0.0.1:${server.port}/?source=sim&currency=ETH`;
    await page.goto(url);
    await waitForFigures(page);
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 20_000 }).toBe(true);

    // Offline: the server is gone; the reload's pagehide saves the figures on screen last.
    await server.close();
    server = null;
    await page.reload();
    const banner = page.getByTestId('stale-banner');
    await expect(banner).toBeVisible({ timeout: 15_000 });
    await expect(banner).toContainText('saved figures from an earlier visit, not live');
    const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('gexdesk.figures.v1.sim.deribit.ETH') ?? 'null') as { result: { gex: { spot: number } } } | null);
    expect(saved).not.toBeNull();
    await expect(page.getByTestId('spot')).toHaveText(fmtSpot(saved!.result.gex.spot));
    await expect(page.getByTestId('source')).toHaveText('SIMULATED');
    await expect(page).toHaveTitle(/^STALE · ETH · zero γ /);
    const path = test.info().outputPath('offline-start.png');
    await page.screenshot({ path });
    await test.info().attach('offline-start', { path, contentType: 'image/png' });
  });
});
