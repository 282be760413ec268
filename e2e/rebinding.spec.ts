/**
 * Security review 3.6 in the browser: DNS rebinding. A page whose name resolves to 127.0.0.1
 * (`--host-resolver-rules`, as the review ran it) sends its own name as Host and as Origin; the server
 * answers nothing but a 400, so the page never loads, and nothing it could send flips a switch. The
 * same browser on the server's own address loads the app.
 */
import { expect, test } from '@playwright/test';
import { resetSim, waitForFigures } from './helpers.ts';

test.use({
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--host-resolver-rules=MAP rebind.test 127.0.0.1'],
  },
});

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

test('3.6: a page at a rebound name gets a 400, and cannot read info, set a fault, pause or open a socket', async ({ page, baseURL, request }) => {
  const port = new URL(baseURL!).port;
  const rebound = `http://rebind.test:${port}`;
  const res = await page.goto(`${rebound}/?source=sim`);
  expect(res?.status()).toBe(400);
  expect(await page.content()).toContain('host not allowed');
  // from that document (the 400 page is still the attacker's origin), try everything the review did
  const tries = await page.evaluate(async () => {
    const status = (p: Promise<Response>) => p.then((r) => r.status).catch(() => 0);
    const ws = await new Promise<string>((resolve) => {
      const s = new WebSocket(`${location.origin.replace('http', 'ws')}/deribit/ws/api/v2`);
      s.onopen = () => resolve('open');
      s.onerror = () => resolve('error');
    });
    return {
      info: await status(fetch('/__gexdesk/info')),
      fault: await status(fetch('/__sim/fault', { method: 'POST', body: '{"kind":"silent"}' })),
      pause: await status(fetch('/__sim/pause', { method: 'POST' })),
      ws,
    };
  });
  expect(tries).toEqual({ info: 400, fault: 400, pause: 400, ws: 'error' });
  const info = await (await request.get('/__gexdesk/info')).json();
  expect(info).toMatchObject({ paused: false, faults: [] });
  // the server's own address still serves the desk
  await page.goto('/?source=sim');
  await waitForFigures(page);
});
