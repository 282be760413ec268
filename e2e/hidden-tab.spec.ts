/**
 * Issue 6, reliability §5.1 test 21: hidden tabs, throttled timers and frozen pages. On return the
 * figures are the simulator's current ones within 2 s, and no painted frame shows old figures as live
 * (if the valuation stamp is old, the stale banner is up).
 *
 * Playwright's own launch keeps every page visible (focus emulation), so these tests drive a plain
 * Chromium over CDP (helpers.launchPlainChromium) where a tab behind another is really `hidden`, its
 * timers throttled (the worker's are not), and `Page.setWebLifecycleState frozen` really stops the page
 * and its worker. The sim runs at 1x here, so its clock minus the wall clock is a constant offset and
 * "the simulator's time when this frame was painted" is the frame's wall time plus that offset.
 */
import { expect, test, type APIRequestContext, type BrowserContext, type Page } from '@playwright/test';
import { launchPlainChromium, resetSim, simClockOffset, waitForFigures } from './helpers.ts';

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

interface Frame {
  /** Page wall time of the animation frame (the state read then is what that frame paints). */
  at: number;
  nowMs: number;
  seq: number;
  stale: boolean;
}
interface Recorder {
  frames: Frame[];
  events: { type: string; at: number; state: string }[];
  ticks: number;
}

/** Records every painted frame whose stamp or banner changed, and every frame just after a lifecycle event. */
function recorder(): void {
  const rec: Recorder = { frames: [], events: [], ticks: 0 };
  (window as unknown as { __rec: Recorder }).__rec = rec;
  // A 100 ms timer: its count shows whether the page's timers ran, were throttled or frozen.
  setInterval(() => rec.ticks++, 100);
  let last = '';
  for (const type of ['visibilitychange', 'freeze', 'resume']) {
    document.addEventListener(type, () => {
      rec.events.push({ type, at: Date.now(), state: document.visibilityState });
      last = ''; // the first frame after any of these is recorded even if nothing changed
    });
  }
  const loop = () => {
    const stamp = document.querySelector('[data-testid="result-stamp"]');
    const stale = document.querySelector('[data-testid="stale-banner"]') !== null;
    const nowMs = Number(stamp?.getAttribute('data-now-ms') ?? NaN);
    const key = `${nowMs}|${stale}`;
    if (stamp && key !== last) {
      last = key;
      rec.frames.push({ at: Date.now(), nowMs, seq: Number(stamp.getAttribute('data-seq')), stale });
      if (rec.frames.length > 4000) rec.frames.splice(0, 1000);
    }
    requestAnimationFrame(loop);
  };
  requestAnimationFrame(loop);
}

const read = (page: Page) => page.evaluate(() => (window as unknown as { __rec: Recorder }).__rec);

/** The stamp may trail the simulator by a recompute interval plus transport; beyond this it is not live. */
const LIVE_LAG_MS = 2_000;
/** A frame older than this must carry the stale banner. */
const OLD_LAG_MS = 3_000;

async function openDashboard(context: BrowserContext, baseURL: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.addInitScript(recorder);
  // This browser is not Playwright's: no baseURL, no viewport emulation (the window is 1920x1080).
  await page.goto(`${baseURL}/?source=sim&currency=BTC`);
  await waitForFigures(page);
  return page;
}

/**
 * Live before, hidden (and optionally frozen) while the sim runs, then back: checks every frame painted
 * after the return against the simulator's clock.
 */
async function hideAndReturn(context: BrowserContext, page: Page, request: APIRequestContext, hiddenMs: number, freeze: boolean) {
  const offset = await simClockOffset(request);
  // Figures are live before leaving, after a few seconds on screen as a person would look at them.
  await page.waitForTimeout(3_000);
  await expect.poll(async () => {
    const f = (await read(page)).frames.at(-1);
    return f && !f.stale ? Date.now() + offset - f.nowMs : Infinity;
  }, { timeout: 15_000 }).toBeLessThan(LIVE_LAG_MS);

  const other = await context.newPage();
  await other.bringToFront();
  await expect.poll(() => page.evaluate(() => document.visibilityState)).toBe('hidden');
  const cdp = await context.newCDPSession(page);
  const hiddenTicks0 = (await read(page)).ticks;
  const hiddenAt = Date.now();
  let frozenTicks: number | null = null;
  if (freeze) {
    await page.waitForTimeout(3_000);
    const before = (await read(page)).ticks;
    await cdp.send('Page.setWebLifecycleState', { state: 'frozen' });
    await page.waitForTimeout(hiddenMs - 3_000);
    await cdp.send('Page.setWebLifecycleState', { state: 'active' });
    frozenTicks = (await read(page)).ticks - before;
  } else {
    await page.waitForTimeout(hiddenMs);
  }
  const hiddenTicks = (await read(page)).ticks - hiddenTicks0;
  const hiddenFor = Date.now() - hiddenAt;
  await page.bringToFront();
  await other.close();
  await page.waitForTimeout(3_000);
  expect(Math.abs((await simClockOffset(request)) - offset), 'the sim ran at 1x throughout').toBeLessThan(500);

  const rec = await read(page);
  const visibleAt = rec.events.filter((e) => e.type === 'visibilitychange' && e.state === 'visible').at(-1)?.at;
  expect(visibleAt, 'the page saw itself become visible again').toBeGreaterThan(hiddenAt);
  const after = rec.frames.filter((f) => f.at >= visibleAt!).map((f) => ({ ...f, sinceVisibleMs: f.at - visibleAt!, lagMs: Math.round(f.at + offset - f.nowMs) }));
  test.info().annotations.push(
    { type: 'lifecycle', description: `hidden ${hiddenFor} ms: 100 ms page timer fired ${hiddenTicks} times${frozenTicks === null ? '' : `, ${frozenTicks} of them while frozen`}; events ${rec.events.map((e) => `${e.type}:${e.state}`).join(' ')}` },
    { type: 'frames after return', description: after.slice(0, 12).map((f) => `+${f.sinceVisibleMs} ms seq ${f.seq} lag ${f.lagMs} ms${f.stale ? ' STALE' : ''}`).join('; ') },
  );

  // The tab really was throttled (hidden) and, when asked, really frozen: otherwise this proves nothing.
  expect(hiddenTicks, 'hidden page timers throttled').toBeLessThan((hiddenFor / 100) * 0.5);
  if (frozenTicks !== null) expect(frozenTicks, 'frozen page timers stopped').toBeLessThanOrEqual(2);

  expect(after.length, 'frames painted after the return').toBeGreaterThan(0);
  // Never an old frame shown as live.
  expect(after.filter((f) => f.lagMs > OLD_LAG_MS && !f.stale), 'old figures painted without the stale banner').toEqual([]);
  // Fresh and live within 2 s of the return.
  const live = after.find((f) => f.lagMs <= LIVE_LAG_MS && !f.stale);
  expect(live, 'a live frame after the return').toBeDefined();
  expect(live!.sinceVisibleMs, 'live again within 2 s').toBeLessThanOrEqual(2_000);
  // And it stays live.
  const last = after.at(-1)!;
  expect(last.stale).toBe(false);
  expect(last.lagMs).toBeLessThanOrEqual(LIVE_LAG_MS);
}

test('a tab hidden behind another for 16 s shows current figures within 2 s of its return, never old ones as live', async ({ request, baseURL }) => {
  const chrome = await launchPlainChromium();
  try {
    const page = await openDashboard(chrome.context, baseURL!);
    await hideAndReturn(chrome.context, page, request, 16_000, false);
  } finally {
    await chrome.close();
  }
});

test('a hidden tab frozen for 13 s (page and worker stopped) shows current figures within 2 s of resuming, never its backlog as live', async ({ request, baseURL }) => {
  const chrome = await launchPlainChromium();
  try {
    const page = await openDashboard(chrome.context, baseURL!);
    await hideAndReturn(chrome.context, page, request, 16_000, true);
  } finally {
    await chrome.close();
  }
});

test('a tab hidden for 6 s (figures older than the grace, younger than the 10 s no-update rule) returns flagged or current, never old as live', async ({ request, baseURL }) => {
  const chrome = await launchPlainChromium();
  try {
    const page = await openDashboard(chrome.context, baseURL!);
    await hideAndReturn(chrome.context, page, request, 6_000, false);
  } finally {
    await chrome.close();
  }
});
