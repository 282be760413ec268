/** Shared helpers for the Playwright specs: server switches, waiting for figures, engine reference. */
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { TestClient } from '../server/testing/test-client.ts';
import { computeGex } from '../src/engine/index.ts';
import { allocColumns } from '../src/chain/columns.ts';
import type { GexResult } from '../src/engine/types.ts';

export const FIGURES = ['spot', 'zero-gamma', 'regime', 'call-wall', 'put-wall', 'net-gex'] as const;

export async function simPost(request: APIRequestContext, path: string, body?: unknown): Promise<{ simTimeMs?: number }> {
  const res = await request.post(path, body === undefined ? {} : { data: body });
  expect(res.ok(), `${path} -> ${res.status()}`).toBe(true);
  return (await res.json().catch(() => ({}))) as { simTimeMs?: number };
}

/** Put the simulator back to normal between tests (resumed, no faults). */
export async function resetSim(request: APIRequestContext): Promise<void> {
  await request.post('/__sim/clear');
  await request.post('/__sim/resume');
}

/** Waits until the page shows figures (spot is a number). */
export async function waitForFigures(page: Page, timeout = 30_000): Promise<void> {
  await expect(page.getByTestId('spot')).toHaveText(/^\d[\d,]*\.\d\d$/, { timeout });
}

export async function readFigures(page: Page): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const id of FIGURES) out[id] = (await page.getByTestId(id).innerText()).trim();
  return out;
}

/**
 * With the simulator paused, waits until the figures have stopped changing (the worker has taken in
 * every frame of the frozen instant) and returns them with the valuation time shown.
 */
export async function waitForSettledFigures(page: Page, quietMs = 2500, timeout = 30_000): Promise<{ figures: Record<string, string>; nowMs: number }> {
  const start = Date.now();
  let last = '';
  let since = Date.now();
  while (Date.now() - start < timeout) {
    const f = await readFigures(page);
    const nowMs = Number(await page.getByTestId('result-stamp').getAttribute('data-now-ms'));
    const key = JSON.stringify([f, nowMs]);
    if (key !== last) {
      last = key;
      since = Date.now();
    } else if (Date.now() - since >= quietMs && f.spot !== '—') {
      return { figures: f, nowMs };
    }
    await page.waitForTimeout(250);
  }
  throw new Error(`figures did not settle within ${timeout} ms: ${last}`);
}

interface Instrument {
  instrument_name: string;
  strike: number;
  expiration_timestamp: number;
  option_type: 'call' | 'put';
  contract_size: number;
}
interface Summary {
  instrument_name: string;
  mark_iv: number;
  open_interest: number;
  underlying_price: number;
  estimated_delivery_price: number;
  creation_timestamp: number;
}

/**
 * The engine's figures for what the local server serves right now, from `public/get_instruments` and
 * `public/get_book_summary_by_currency` over a websocket, valued at the summary's timestamp.
 */
export async function referenceGex(baseURL: string, currency: 'BTC' | 'ETH', opts: { expiries?: number[]; model?: 'classic' | 'short'; nowMs?: number } = {}): Promise<{ gex: GexResult; summaryMs: number }> {
  const ws = baseURL.replace(/^http/, 'ws') + '/deribit/ws/api/v2';
  const c = await TestClient.connect(ws);
  try {
    const ins = (await c.call('public/get_instruments', { currency, kind: 'option', expired: false })).result as Instrument[];
    const sum = (await c.call('public/get_book_summary_by_currency', { currency, kind: 'option' })).result as Summary[];
    const byName = new Map(ins.map((i) => [i.instrument_name, i]));
    const n = sum.length;
    const chain = allocColumns(n);
    let summaryMs = 0;
    let spot = NaN;
    for (const s of sum) {
      const i = byName.get(s.instrument_name);
      if (!i) continue;
      const k = chain.length++;
      chain.strike[k] = i.strike;
      chain.expiryMs[k] = i.expiration_timestamp;
      chain.isCall[k] = i.option_type === 'call' ? 1 : 0;
      chain.markIv[k] = s.mark_iv / 100;
      chain.forward[k] = s.underlying_price;
      chain.openInterest[k] = s.open_interest;
      chain.multiplier[k] = i.contract_size;
      if (s.creation_timestamp > summaryMs) {
        summaryMs = s.creation_timestamp;
        spot = s.estimated_delivery_price;
      }
    }
    const gex = computeGex(chain, {
      spot, nowMs: opts.nowMs ?? summaryMs, model: opts.model ?? 'classic',
      expiries: opts.expiries && opts.expiries.length > 0 ? new Set(opts.expiries) : null,
    });
    return { gex, summaryMs };
  } finally {
    c.close();
  }
}

/**
 * Marks drawn in a chart container: a canvas chart (src/ui/charts/canvas.tsx) says how many bars and
 * lines it drew in data attributes (none before it is drawn).
 */
export async function countMarks(page: Page, testId: string): Promise<{ bars: number; lines: number }> {
  const canvas = page.getByTestId(testId).locator('.canvas-chart');
  if ((await canvas.count()) === 0) return { bars: 0, lines: 0 };
  const [bars, lines] = await canvas.first().evaluate((el) => [Number(el.getAttribute('data-bars') ?? 0), Number(el.getAttribute('data-lines') ?? 0)]);
  return { bars, lines };
}

/** The series key of a view in the history store (src/state/minutes.ts seriesKey), e.g. `sim|deribit|BTC|classic|all`. */
export const seriesOf = (o: { source?: string; venues?: string[]; currency?: string; model?: string } = {}) =>
  [o.source ?? 'sim', [...(o.venues ?? ['deribit'])].sort().join('+'), o.currency ?? 'BTC', o.model ?? 'classic', 'all'].join('|');

/** What the page's IndexedDB holds of a series: the venue times of its session points and minute samples. */
export async function storedHistory(page: Page, series: string): Promise<{ points: number[]; minutes: number[] }> {
  return page.evaluate((key) => new Promise<{ points: number[]; minutes: number[] }>((resolve, reject) => {
    const req = indexedDB.open('gexdesk-history');
    req.onerror = () => reject(req.error);
    req.onsuccess = () => {
      const db = req.result;
      const out = { points: [] as number[], minutes: [] as number[] };
      if (!db.objectStoreNames.contains('minutes')) {
        db.close();
        resolve(out);
        return;
      }
      const tx = db.transaction(['points', 'minutes'], 'readonly');
      const range = IDBKeyRange.bound([key, -Infinity], [key, Infinity]);
      tx.objectStore('points').getAllKeys(range).onsuccess = (e) => (out.points = ((e.target as IDBRequest).result as [string, number][]).map((k) => k[1]));
      tx.objectStore('minutes').getAllKeys(range).onsuccess = (e) => (out.minutes = ((e.target as IDBRequest).result as [string, number][]).map((k) => k[1]));
      tx.oncomplete = () => {
        db.close();
        resolve(out);
      };
      tx.onerror = () => reject(tx.error);
    };
  }), series);
}

// Imports for the helpers below, kept with them (this file is appended to by several specs' authors).
import { chromium, type Browser, type BrowserContext } from '@playwright/test';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Debian Chromium driven by Playwright without Playwright's page defaults. `chromium.launch` turns on
 * focus emulation for every page, and then a page stays `visible` and unthrottled whatever happens
 * (measured here, Chromium 156: a second tab in front, a minimized window and a CDP freeze all left it
 * visible). Attached over CDP with `noDefaults`, the default context's tabs behave as in a real browser:
 * bringing another tab to the front makes the first `hidden` with its timers throttled, and CDP
 * `Page.setWebLifecycleState` really freezes it (and its worker) and fires `freeze`/`resume`.
 */
export async function launchPlainChromium(): Promise<{ browser: Browser; context: BrowserContext; close(): Promise<void> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'gexdesk-chromium-'));
  const child = spawn(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run',
    '--disable-quic', '--disable-sync', '--window-size=1920,1080', '--remote-debugging-port=0', `--user-data-dir=${dataDir}`, 'about:blank',
  ], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const close = async (browser?: Browser) => {
    await browser?.close().catch(() => undefined);
    if (child.exitCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      // Its own process group: Debian's /usr/bin/chromium is a shell script that does not exec the browser.
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const endpoint = await new Promise<string>((resolve, reject) => {
      let err = '';
      const t = setTimeout(() => reject(new Error(`chromium did not start: ${err.slice(-500)}`)), 20_000);
      child.stderr!.on('data', (d: Buffer) => {
        err += d.toString();
        const m = /DevTools listening on (ws:\/\/\S+)/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => reject(new Error(`chromium exited ${code}: ${err.slice(-500)}`)));
    });
    const browser = await chromium.connectOverCDP(endpoint, { noDefaults: true });
    return { browser, context: browser.contexts()[0], close: () => close(browser) };
  } catch (e) {
    await close();
    throw e;
  }
}

/** The simulator's clock minus this machine's wall clock (constant while the sim runs at 1x, unpaused). */
export async function simClockOffset(request: APIRequestContext): Promise<number> {
  const t0 = Date.now();
  const res = await request.get('/__gexdesk/info');
  const t1 = Date.now();
  expect(res.ok()).toBe(true);
  const { simTimeMs } = (await res.json()) as { simTimeMs: number };
  return simTimeMs - (t0 + t1) / 2;
}
