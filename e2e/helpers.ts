/** Shared helpers for the Playwright specs: server switches, waiting for figures, engine reference. */
import { expect, type APIRequestContext, type Page } from '@playwright/test';
import { TestClient } from '../server/test-client.ts';
import { computeGex } from '../src/engine/index.ts';
import type { ChainColumns, GexResult } from '../src/engine/types.ts';

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
    const chain: ChainColumns = {
      length: 0,
      strike: new Float64Array(n), expiryMs: new Float64Array(n), isCall: new Uint8Array(n), markIv: new Float64Array(n),
      forward: new Float64Array(n), openInterest: new Float64Array(n), multiplier: new Float64Array(n),
    };
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

/** Counts SVG marks inside a chart container. */
export async function countMarks(page: Page, testId: string): Promise<{ bars: number; lines: number }> {
  const root = page.getByTestId(testId);
  const bars = await root.locator('path.recharts-rectangle, .recharts-bar-rectangle path').count();
  const lines = await root.locator('path.recharts-curve').count();
  return { bars, lines };
}
