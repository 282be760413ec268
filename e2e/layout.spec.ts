/**
 * Issue 17: shared links open anywhere. At a phone (touch), a tablet, a laptop window, a desk screen
 * and a 4K wall: no sideways scrolling, the three charts drawn (full width on the phone), no panel,
 * chart or control over another or off the screen, copy-link and the model switch reachable, axis
 * labels clear of each other (their boxes measured). A screenshot of each size is kept in
 * test-results/screens/ and attached to the report for a person to look at.
 */
import { expect, test, type APIRequestContext, type Page } from '@playwright/test';
import { mkdirSync } from 'node:fs';
import { countMarks, resetSim, simClockOffset, simPost, waitForFigures, waitForSettledFigures } from './helpers.ts';

const SHOTS = 'test-results/screens';
mkdirSync(SHOTS, { recursive: true });

interface Size {
  name: string;
  width: number;
  height: number;
  layout: 'phone' | 'stack' | 'wide';
  touch?: boolean;
  /** A wall display, and its type scale (1 at 1080p). */
  kiosk?: number;
}
const SIZES: Size[] = [
  { name: 'phone', width: 390, height: 844, layout: 'phone', touch: true },
  { name: 'tablet', width: 768, height: 1024, layout: 'stack' },
  { name: 'laptop', width: 1280, height: 800, layout: 'wide' },
  { name: 'desk', width: 1920, height: 1080, layout: 'wide' },
  { name: 'wall-4k', width: 3840, height: 2160, layout: 'wide', kiosk: 2 },
  { name: 'wall-portrait', width: 1080, height: 1920, layout: 'stack', kiosk: 1 },
];
const CHARTS = ['chart-gamma-by-strike', 'chart-gamma-profile', 'chart-hedge-flow'] as const;
/** The session history too, filled with an hour of points before the page opens. */
const ALL_CHARTS = [...CHARTS, 'chart-session-history'] as const;

interface Box {
  name: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Boxes of the visible elements matching `selector` (named by test id, panel, class or text). */
async function boxes(page: Page, selector: string): Promise<Box[]> {
  return (await boxesTogether(page, [selector]))[0];
}

/**
 * Boxes for each of `selectors`, measured in one layout: a chart and its labels measured in two calls
 * could straddle a reflow (the status bar wrapping to a second row as the figures arrive moves the
 * panels up ~4 px), and a label would look outside a chart box that had already moved.
 */
function boxesTogether(page: Page, selectors: string[]): Promise<Box[][]> {
  return page.evaluate((sels) => sels.map((sel) => {
    const out: Box[] = [];
    for (const el of document.querySelectorAll(sel)) {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.display === 'none') continue;
      const name = el.getAttribute('data-testid') ?? el.getAttribute('data-panel') ?? `${el.tagName.toLowerCase()}.${el.getAttribute('class') ?? ''} "${(el.textContent ?? '').trim().slice(0, 24)}"`;
      out.push({ name, x: r.x, y: r.y, w: r.width, h: r.height });
    }
    return out;
  }), selectors);
}

const overlap = (a: Box, b: Box, tol = 0.5) => a.x < b.x + b.w - tol && b.x < a.x + a.w - tol && a.y < b.y + b.h - tol && b.y < a.y + a.h - tol;
const inside = (a: Box, outer: Box, tol = 1) => a.x >= outer.x - tol && a.y >= outer.y - tol && a.x + a.w <= outer.x + outer.w + tol && a.y + a.h <= outer.y + outer.h + tol;
const fmt = (b: Box) => `${b.name} [${Math.round(b.x)},${Math.round(b.y)} ${Math.round(b.w)}x${Math.round(b.h)}]`;

function expectApart(list: Box[], what: string): void {
  const hits: string[] = [];
  for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (overlap(list[i], list[j])) hits.push(`${fmt(list[i])} / ${fmt(list[j])}`);
  expect(hits, `${what} overlapping`).toEqual([]);
}
function expectWithin(list: Box[], outer: Box, what: string): void {
  expect(list.filter((b) => !inside(b, outer)).map(fmt), `${what} outside ${fmt(outer)}`).toEqual([]);
}

async function expectNoSidewaysScroll(page: Page): Promise<void> {
  const over = await page.evaluate(() => {
    const out: string[] = [];
    const doc = document.documentElement;
    if (doc.scrollWidth > window.innerWidth) out.push(`document ${doc.scrollWidth} > ${window.innerWidth}`);
    for (const el of document.querySelectorAll('.main, .drawer, .perp')) {
      if (el.scrollWidth > el.clientWidth + 1) out.push(`${el.className} ${el.scrollWidth} > ${el.clientWidth}`);
    }
    return out;
  });
  expect(over, 'sideways scrolling').toEqual([]);
}

/** Tick labels of each axis of each chart: clear of each other and inside their chart. */
async function expectAxisLabelsApart(page: Page): Promise<number> {
  let labels = 0;
  for (const chart of ALL_CHARTS) {
    const sel = `[data-testid="${chart}"]`;
    const [[box], xTicks, yTicks] = await boxesTogether(page, [sel, `${sel} .axis-tick[data-axis="x"]`, `${sel} .axis-tick[data-axis="y"]`]);
    for (const [axis, ticks] of [['xAxis', xTicks], ['yAxis', yTicks]] as const) {
      expect(ticks.length, `${chart} ${axis} labels`).toBeGreaterThanOrEqual(2);
      expectApart(ticks, `${chart} ${axis} labels`);
      expectWithin(ticks, box, `${chart} ${axis} labels`);
      labels += ticks.length;
    }
  }
  return labels;
}

async function shoot(page: Page, name: string): Promise<void> {
  const path = `${SHOTS}/layout-${name}.png`;
  await page.screenshot({ path });
  await test.info().attach(`layout-${name}`, { path, contentType: 'image/png' });
}

test.afterEach(async ({ request }) => {
  await resetSim(request);
});

/** An hour of session history ending now on the simulator's clock, stored before the page loads. */
async function seedHistory(page: Page, request: APIRequestContext): Promise<void> {
  const end = Date.now() + (await simClockOffset(request)) - 10_000;
  const points = Array.from({ length: 360 }, (_, i) => {
    const t = Math.floor(end / 10_000) * 10_000 - (359 - i) * 10_000;
    return [t, 80_000 + 400 * Math.sin(i / 40), 79_800 + 200 * Math.cos(i / 50)];
  });
  await page.addInitScript((stored) => localStorage.setItem('gexdesk.history.v1.sim.deribit.BTC', stored), JSON.stringify({ v: 1, points }));
}

for (const size of SIZES) {
  test.describe(`${size.name} ${size.width}x${size.height}${size.kiosk ? ' kiosk' : ''}`, () => {
    test.use({ viewport: { width: size.width, height: size.height }, hasTouch: size.touch ?? false, isMobile: size.touch ?? false });

    test('no sideways scroll, charts drawn, nothing overlapping or off the screen, axis labels apart', async ({ page, request }) => {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await seedHistory(page, request);
      await page.goto(`/?source=sim${size.kiosk ? '&kiosk=1' : ''}`);
      await waitForFigures(page);
      await expect.poll(async () => (await countMarks(page, 'chart-gamma-by-strike')).bars, { timeout: 10_000 }).toBeGreaterThan(10);
      await expect.poll(async () => (await countMarks(page, 'chart-gamma-profile')).lines, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      await expect.poll(async () => (await countMarks(page, 'chart-hedge-flow')).bars, { timeout: 10_000 }).toBeGreaterThanOrEqual(15);
      await expect.poll(async () => (await countMarks(page, 'chart-session-history')).lines, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
      const vw = size.width;
      const vh = size.height;
      const screen: Box = { name: 'screen', x: 0, y: 0, w: vw, h: vh };
      const phone = size.layout === 'phone';
      await expect(page.getByTestId('app')).toHaveAttribute('data-layout', size.layout);

      await expectNoSidewaysScroll(page);

      // The rows of the page, the panels, and each chart inside its panel.
      const rows = [...await boxes(page, '.header'), ...await boxes(page, '.main'), ...await boxes(page, '.bottom-bar')];
      expect(rows).toHaveLength(3);
      expectApart(rows, 'header, main, bottom bar');
      expectWithin(rows, screen, 'page rows');
      const panels = await boxes(page, '[data-panel]');
      expect(panels.map((p) => p.name).sort()).toEqual(['flow', 'history', 'ladder', 'levels', 'profile', 'strike']);
      expectApart(panels, 'panels');
      for (const p of panels) expect(p.x >= -1 && p.x + p.w <= vw + 1, `${fmt(p)} inside the width`).toBe(true);
      const charts = await boxes(page, ALL_CHARTS.map((c) => `[data-testid="${c}"]`).join(','));
      expect(charts).toHaveLength(4);
      for (const c of charts) {
        const panel = panels.find((p) => inside(c, p));
        expect(panel, `${fmt(c)} inside a panel`).toBeDefined();
        expect(c.h, `${c.name} height`).toBeGreaterThanOrEqual(phone ? 200 : 150);
        if (phone) expect(c.w, `${c.name} width on a phone`).toBeGreaterThanOrEqual(0.85 * vw);
      }
      expectApart(await boxes(page, '.flow-wrap > *'), 'hedge-flow chart and perp table');
      if (size.layout === 'wide' || size.kiosk) {
        // One screen, no scrolling: the desk and the walls.
        const [sh, ch] = await page.locator('.main').evaluate((m) => [m.scrollHeight, m.clientHeight]);
        expect(sh, 'vertical scroll on a one-screen layout').toBeLessThanOrEqual(ch + 1);
        expectWithin(panels, screen, 'panels');
      }

      // Header and status bar: every item on the screen, none over another (they wrap, never cut).
      const header = await boxes(page, '.header > *:not(.controls), .controls > *');
      expectApart(header, 'header items');
      expectWithin(header, screen, 'header items');
      const status = await boxes(page, '.status > .item, .bottom-bar > .menu-btn');
      expect(status.length).toBeGreaterThanOrEqual(2);
      expectApart(status, 'status items');
      expectWithin(status, screen, 'status items');

      // Copy link and the model switch: in the header, or one tap into the menu on a phone; none on a wall.
      if (size.kiosk) {
        await expect(page.getByTestId('controls')).toHaveCount(0);
      } else {
        if (phone) {
          await expect(page.getByTestId('copy-link')).toHaveCount(0);
          await page.getByTestId('menu-toggle').tap();
        }
        for (const id of ['copy-link', 'model-classic', 'model-short']) {
          await expect(page.getByTestId(id)).toBeVisible();
          const [b] = await boxes(page, `[data-testid="${id}"]`);
          expectWithin([b], screen, id);
        }
        if (phone) {
          await expectNoSidewaysScroll(page);
          await shoot(page, `${size.name}-menu`);
          await page.getByTestId('menu-close').tap();
          await expect(page.getByTestId('controls-drawer')).toHaveCount(0);
        }
      }

      const labels = await expectAxisLabelsApart(page);
      test.info().annotations.push({ type: 'axis labels', description: `${labels} labels measured, none overlapping` });
      if (size.kiosk) {
        // The wall's type scales with the screen: 16 px ticks and 40 px figures at 1080p, twice that on 4K.
        const tick = await page.locator('[data-testid="chart-gamma-by-strike"] .axis-tick').first().evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
        expect(tick).toBe(16 * size.kiosk);
        expect(await page.getByTestId('spot').evaluate((el) => parseFloat(getComputedStyle(el).fontSize))).toBe(40 * size.kiosk);
      }
      await expect(page).toHaveTitle(/^BTC · zero γ ([\d,]+|none) · (positive|negative|flat) γ · SIM · gexdesk$/);
      await shoot(page, size.name);
      if (phone) {
        await page.locator('.main').evaluate((m) => m.scrollTo(0, m.scrollHeight));
        await shoot(page, `${size.name}-scrolled`);
      }
      expect(errors).toEqual([]);
    });
  });
}

test.describe('phone', () => {
  test.use({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true });

  test('figures update live, a tap shows a tooltip, and the stale banner cannot be missed', async ({ page, request }) => {
    test.setTimeout(60_000);
    await page.goto('/?source=sim');
    await waitForFigures(page);
    const stamp = page.getByTestId('result-stamp');
    await expect(stamp).toBeVisible();
    const seq = Number(await stamp.getAttribute('data-seq'));
    await expect.poll(async () => Number(await stamp.getAttribute('data-seq')), { timeout: 10_000 }).toBeGreaterThan(seq);

    // Tooltips by tap: a tap on a chart shows the values under it.
    const chart = page.getByTestId('chart-gamma-by-strike');
    const box = (await chart.boundingBox())!;
    await page.touchscreen.tap(box.x + box.width * 0.3, box.y + box.height * 0.5);
    await expect(chart.locator('.tip')).toBeVisible();
    await expect(chart.locator('.tip')).toContainText('Strike');

    await simPost(request, '/__sim/fault', { kind: 'silent' });
    const banner = page.getByTestId('stale-banner');
    await expect(banner).toBeVisible({ timeout: 25_000 });
    const [b] = await boxes(page, '[data-testid="stale-banner"]');
    expect(b.x).toBeGreaterThanOrEqual(0);
    expect(b.x + b.w).toBeLessThanOrEqual(390);
    expect(b.w).toBeGreaterThanOrEqual(0.9 * 390);
    expect(b.y + b.h).toBeLessThanOrEqual(844);
    // On top of everything where it is.
    const top = await page.evaluate(({ x, y }) => document.elementFromPoint(x, y)?.closest('[data-testid="stale-banner"]') !== null, { x: b.x + b.w / 2, y: b.y + b.h / 2 });
    expect(top).toBe(true);
    await expect(page).toHaveTitle(/^STALE · BTC/);
    await shoot(page, 'phone-stale');
  });
});

test('the title follows the view: currency, the zero gamma on screen, the regime', async ({ page, request }) => {
  await page.goto('/?source=sim&currency=ETH');
  await waitForFigures(page);
  await simPost(request, '/__sim/pause');
  const { figures } = await waitForSettledFigures(page);
  const regime = figures.regime.split(' ')[0].toLowerCase();
  await expect(page).toHaveTitle(`ETH · zero γ ${figures['zero-gamma'] === 'none in range' ? 'none' : figures['zero-gamma']} · ${regime} γ · SIM · gexdesk`);
});
