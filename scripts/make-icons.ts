/**
 * Draws the app icons of the web app manifest (public/icons/*.png) from the favicon's design, rendered
 * by Debian's Chromium: `node --import tsx scripts/make-icons.ts`. The PNGs are committed; run this
 * again only when the design changes.
 */
import { chromium } from '@playwright/test';
import { mkdirSync } from 'node:fs';

const BG = '#0f1620';
const CURVE = '#4ade80';

/** The favicon's curve on a rounded tile ("any"), or inside the maskable safe zone on a full-bleed square. */
function svg(maskable: boolean): string {
  const tile = maskable ? `<rect width="512" height="512" fill="${BG}"/>` : `<rect width="512" height="512" rx="96" fill="${BG}"/>`;
  // Maskable icons may be cut to a circle of 80 % of the size: keep the curve well inside it.
  const path = maskable ? 'M136 340 C196 340 214 172 256 172 S316 340 376 340' : 'M64 384 C160 384 192 128 256 128 S352 384 448 384';
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 512 512" width="100%" height="100%">${tile}<path d="${path}" stroke="${CURVE}" stroke-width="${maskable ? 36 : 48}" stroke-linecap="round" fill="none"/></svg>`;
}

const out = 'public/icons';
mkdirSync(out, { recursive: true });
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  for (const [name, size, maskable] of [['icon-192.png', 192, false], ['icon-512.png', 512, false], ['icon-maskable-512.png', 512, true]] as const) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<html><body style="margin:0;background:transparent">${svg(maskable)}</body></html>`);
    await page.screenshot({ path: `${out}/${name}`, omitBackground: true });
    await page.close();
    console.log(`${out}/${name}`);
  }
} finally {
  await browser.close();
}
