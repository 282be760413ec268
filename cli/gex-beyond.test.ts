/**
 * The CLI beyond gamma and with the flow model, on the generated 1,080-line chain: exposures,
 * scenarios and dealer positions from a saved trade tape, each against an independent computation
 * of the design's formulas with the literal Black-76 functions; and the inputs it must refuse.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readInputFile, runCli, type SnapshotOutput } from './gex.ts';
import { EXP_MS, NOW, SPOT, frame, generate, rng, type Gen } from './fixtures.ts';
import { charm, delta, gamma, vanna, yearFraction } from '../src/engine/black76.ts';

const DAY = 86_400_000;
let dir = '';
let gen: ReturnType<typeof generate>;
const run = (argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readFile: (p) => readInputFile(p) });
  return { code, stdout, stderr };
};
const json = (argv: string[]) => {
  const r = run([...argv, '--json']);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout) as SnapshotOutput;
};
const files = () => ['snapshot', '--instruments', join(dir, 'instruments.json'), '--summary', join(dir, 'summary.json')];
/** |a - b| within rel of the scale (the largest magnitude of the series compared). */
const near = (a: number, b: number, scale: number, rel = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(scale, 1e-12));

// A tape over the last 10 days: trades inside and outside the 7-day window, a page overlap (the
// same trades twice), block trades, trades on unlisted and expired instruments, and bad rows.
interface Trade {
  trade_id: string;
  instrument_name: string;
  timestamp: number;
  direction: string;
  amount: number;
  block_trade_id?: string;
  [k: string]: unknown;
}
function tape(lines: Gen[]): { pages: Trade[][]; trades: Trade[] } {
  const rnd = rng(7);
  const trades: Trade[] = [];
  let id = 1;
  for (const l of lines) {
    if (rnd() < 0.3) continue; // untraded lines: "assumed"
    const n = 1 + Math.floor(rnd() * 6);
    for (let k = 0; k < n; k++) {
      const t: Trade = {
        trade_id: `BTC-${id++}`,
        instrument_name: l.name,
        timestamp: NOW - Math.floor(rnd() * 10 * DAY),
        direction: rnd() < 0.55 ? 'buy' : 'sell',
        amount: Math.round(rnd() * 40 * 10) / 10,
        price: 0.01,
        iv: 55.3,
        index_price: SPOT,
        tick_direction: 1,
        trade_seq: id,
      };
      if (rnd() < 0.05) t.block_trade_id = `BLOCK-${id}`;
      trades.push(t);
    }
  }
  trades.push({ trade_id: 'BTC-x1', instrument_name: 'BTC-27DEC24-999000-C', timestamp: NOW - DAY, direction: 'buy', amount: 5 }); // unlisted
  trades.push({ trade_id: 'BTC-x2', instrument_name: 'BTC-PERPETUAL', timestamp: NOW - DAY, direction: 'buy', amount: 5 }); // not an option
  trades.push({ trade_id: 'BTC-x3', instrument_name: lines[700].name, timestamp: NOW - DAY, direction: 'hold', amount: 5 }); // bad side
  trades.push({ trade_id: 'BTC-x4', instrument_name: lines[700].name, timestamp: NOW - DAY, direction: 'buy', amount: -5 }); // bad amount
  trades.push({ trade_id: 'BTC-x5', instrument_name: lines[700].name, timestamp: NOW + 60_000, direction: 'buy', amount: 5 }); // after now
  trades.sort((a, b) => a.timestamp - b.timestamp);
  // pages of 1000 by time, each overlapping the previous by 20 trades (repeated at the boundary)
  const pages: Trade[][] = [];
  for (let start = 0; start < trades.length; start += 980) pages.push(trades.slice(start, start + 1000));
  return { pages, trades };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gex-cli-beyond-'));
  gen = generate();
  writeFileSync(join(dir, 'instruments.json'), frame(1, gen.instruments));
  writeFileSync(join(dir, 'summary.json'), frame(2, gen.summary));
  const t = tape(gen.lines);
  writeFileSync(join(dir, 'trades.jsonl'), t.pages.map((p, k) => frame(10 + k, { trades: p, has_more: k < t.pages.length - 1 })).join('\n') + '\n');
});

const T = (l: Gen, hours = 0) => yearFraction(l.expiryMs, NOW) - (hours * 3_600_000) / (365 * DAY);
const valid = () => gen.lines.filter((l) => l.valid);

describe('exposures and scenarios (design: "Beyond gamma")', () => {
  for (const [model, sign] of [
    ['classic', (l: Gen) => (l.isCall ? 1 : -1)],
    ['short', () => -1],
  ] as const) {
    it(`per-strike delta, vanna, charm and the scenario grid equal the design's formulas (${model})`, () => {
      const o = json([...files(), '--model', model, '--hours', '0,1,8,24,200', '--vol-shifts', '-0.05,0,0.03']);
      const q = (l: Gen) => sign(l) * l.oi;
      const ex = new Map<number, { d: number; v: number; c: number }>();
      for (const l of valid()) {
        const e = ex.get(l.strike) ?? { d: 0, v: 0, c: 0 };
        e.d += q(l) * delta(l.forward, l.strike, l.iv, T(l), l.isCall);
        e.v += q(l) * vanna(l.forward, l.strike, l.iv, T(l)) * 0.01;
        e.c += (q(l) * charm(l.forward, l.strike, l.iv, T(l))) / 365;
        ex.set(l.strike, e);
      }
      const scale = (f: (e: { d: number; v: number; c: number }) => number) => Math.max(...[...ex.values()].map((e) => Math.abs(f(e))));
      for (const s of o.strikes) {
        const e = ex.get(s.strike)!;
        near(s.delta, e.d, scale((x) => x.d));
        near(s.vanna, e.v, scale((x) => x.v));
        near(s.charm, e.c, scale((x) => x.c));
      }
      near(o.exposures.delta, [...ex.values()].reduce((a, e) => a + e.d, 0), scale((x) => x.d));

      // D(S', t', sigma') over the valid lines; a line expired by the horizon contributes 0
      const D = (m: number, h: number, dv: number) =>
        valid().reduce((a, l) => (T(l, h) > 0 ? a + q(l) * delta(l.forward * (1 + m), l.strike, Math.max(l.iv + dv, 0.01), T(l, h), l.isCall) : a), 0);
      const d0 = D(0, 0, 0);
      expect(o.scenarios.length).toBe(21 * 5 * 3);
      const expected = o.scenarios.map((s) => -(D(s.move, s.hours, s.volShift) - d0));
      const big = Math.max(...expected.map(Math.abs));
      o.scenarios.forEach((s, k) => {
        near(s.units, expected[k], big, 1e-9);
        near(s.usd, expected[k] * SPOT * (1 + s.move), big * SPOT * 1.1, 1e-9);
      });
      // move-major order, and +200 h is past 27DEC24 08:00: those lines have left the book
      expect(o.scenarios.slice(0, 3).map((s) => [s.move, s.hours, s.volShift])).toEqual([
        [-0.1, 0, -0.05],
        [-0.1, 0, 0],
        [-0.1, 0, 0.03],
      ]);
      const still = o.scenarios.find((s) => s.move === 0 && s.hours === 0 && s.volShift === 0)!;
      expect(still.units).toBe(0);
    });
  }

  it('default hours 0,1,8,24 and vol shifts -5 ... +5 vol points: 588 scenarios; the table shows the vol-unchanged ladder', () => {
    const o = json(files());
    expect(o.scenarios.length).toBe(21 * 4 * 7);
    expect([...new Set(o.scenarios.map((s) => s.hours))]).toEqual([0, 1, 8, 24]);
    expect([...new Set(o.scenarios.map((s) => s.volShift))]).toEqual([-0.05, -0.02, -0.01, 0, 0.01, 0.02, 0.05]);
    const text = run(files()).stdout;
    expect(text).toMatch(/hedge flow by horizon, vol unchanged/);
    expect(text).toMatch(/move\s+\+0 h\s+\+1 h\s+\+8 h\s+\+24 h/);
  });

  it('bad lists: one error line, exit 2', () => {
    for (const [flag, v] of [
      ['--hours', ''],
      ['--hours', '0,,8'],
      ['--hours', '-1'],
      ['--hours', '1e400'],
      ['--hours', 'abc'],
      ['--vol-shifts', '5'],
      ['--vol-shifts', 'NaN'],
      ['--vol-shifts', '0x10'],
      ['--vol-shifts', Array(51).fill('0').join(',')],
    ]) {
      const r = run([...files(), flag, v]);
      expect(r.code, `${flag} ${v}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(flag));
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });

  it('expiring lines: left out by default with their share and pin, --expiring includes them', () => {
    const now = EXP_MS['21DEC24'] - 30 * 60_000; // 30 minutes before the daily expiry
    const out = json([...files(), '--now', String(now)]);
    const daily = valid().filter((l) => l.expiryMs === EXP_MS['21DEC24']);
    expect(out.expiring.lines).toBe(daily.length);
    expect(out.expiring.included).toBe(false);
    expect(out.byExpiry.map((b) => b.expiry)).not.toContain('21DEC24');
    expect(out.nextExpiry).toBe('27DEC24');
    const tYears = yearFraction(EXP_MS['21DEC24'], now);
    const dg = (l: Gen) => gamma(l.forward, l.strike, l.iv, tYears) * l.forward ** 2 * 0.01 * l.oi;
    const byStrike = new Map<number, number>();
    for (const l of daily) byStrike.set(l.strike, (byStrike.get(l.strike) ?? 0) + dg(l));
    const pin = [...byStrike.entries()].reduce((a, b) => (b[1] > a[1] ? b : a))[0];
    expect(out.expiring.pinStrike).toBe(pin);
    const inc = json([...files(), '--now', String(now), '--expiring']);
    expect(inc.expiring.included).toBe(true);
    expect(inc.byExpiry[0].expiry).toBe('21DEC24');
    expect(inc.includedLines).toBe(out.includedLines + daily.length);
    // share of gross dollar gamma: the daily's lines over every valid line, at the valuation time
    const grossOf = (ls: Gen[]) => ls.reduce((a, l) => a + gamma(l.forward, l.strike, l.iv, yearFraction(l.expiryMs, now)) * l.forward ** 2 * 0.01 * l.oi, 0);
    const all = valid().filter((l) => l.expiryMs > now);
    expect(out.expiring.grossGammaShare).toBeCloseTo(grossOf(daily) / grossOf(all), 12);
    expect(inc.expiring.grossGammaShare).toBeCloseTo(out.expiring.grossGammaShare, 12);
  });

  it('--after-next-expiry leaves out the nearest expiry', () => {
    const all = json(files());
    const after = json([...files(), '--after-next-expiry']);
    expect(after.afterNextExpiry).toBe('21DEC24');
    expect(after.byExpiry.map((b) => b.expiry)).toEqual(all.byExpiry.slice(1).map((b) => b.expiry));
    near(after.total.net, all.total.net - all.byExpiry[0].net, Math.abs(all.total.net), 1e-9);
  });
});

describe('--model flow (design: "Dealer positions from the trade tape")', () => {
  /** The design's per-line position from the tape, independently of the code under test. */
  function expectedFlow(windowStart: number) {
    const t = tape(gen.lines).trades;
    const seen = new Set<string>();
    const per = new Map<string, { B: number; S: number; n: number; block: number }>();
    const inSums = new Map(valid().map((l) => [l.name, l]));
    for (const x of t) {
      if (seen.has(x.trade_id)) continue;
      seen.add(x.trade_id);
      if (x.timestamp < windowStart || x.timestamp > NOW) continue;
      if (!inSums.has(x.instrument_name) || (x.direction !== 'buy' && x.direction !== 'sell') || !(x.amount >= 0)) continue;
      const e = per.get(x.instrument_name) ?? { B: 0, S: 0, n: 0, block: 0 };
      if (x.direction === 'buy') e.B += x.amount;
      else e.S += x.amount;
      e.n++;
      if (x.block_trade_id) e.block++;
      per.set(x.instrument_name, e);
    }
    const abs = { whole: 0, part: 0, assumed: 0 };
    let trades = 0;
    let block = 0;
    const q = new Map<string, number>();
    for (const l of valid()) {
      const e = per.get(l.name) ?? { B: 0, S: 0, n: 0, block: 0 };
      trades += e.n;
      block += e.block;
      const G = e.B + e.S;
      const N = e.B - e.S;
      let v: number;
      if (G === 0) {
        v = (l.isCall ? 1 : -1) * l.oi;
        abs.assumed += Math.abs(v);
      } else if (l.listedMs >= windowStart) {
        v = -Math.min(l.oi, Math.max(-l.oi, N));
        abs.whole += Math.abs(v);
      } else {
        v = (-l.oi * N) / G;
        abs.part += Math.abs(v);
      }
      q.set(l.name, v);
    }
    const total = abs.whole + abs.part + abs.assumed;
    return { q, trades, block, shares: { seenWhole: abs.whole / total, seenInPart: abs.part / total, assumed: abs.assumed / total } };
  }

  for (const windowStart of [NOW - 7 * DAY, NOW - 1 * DAY]) {
    it(`positions, per-strike GEX and positioning equal the design (window from ${(NOW - windowStart) / DAY} days back)`, () => {
      const argv = [...files(), '--model', 'flow', '--trades', join(dir, 'trades.jsonl')];
      const o = json(windowStart === NOW - 7 * DAY ? argv : [...argv, '--window-start', String(windowStart)]);
      const e = expectedFlow(windowStart);
      expect(o.model).toBe('flow');
      expect(o.positioning).toEqual({
        windowStartMs: windowStart,
        trades: e.trades,
        blockTrades: e.block,
        seenWhole: expect.closeTo(e.shares.seenWhole, 12),
        seenInPart: expect.closeTo(e.shares.seenInPart, 12),
        assumed: expect.closeTo(e.shares.assumed, 12),
      });
      expect(e.trades).toBeGreaterThan(100);
      expect(e.block).toBeGreaterThan(0);
      // lines listed 2 days ago were seen whole by the 7-day window only
      if (windowStart === NOW - 7 * DAY) expect(e.shares.seenWhole).toBeGreaterThan(0);
      else expect(e.shares.seenWhole).toBe(0);
      expect(e.shares.seenInPart).toBeGreaterThan(0);
      expect(e.shares.assumed).toBeGreaterThan(0);
      const p = o.positioning!;
      expect(p.seenWhole + p.seenInPart + p.assumed).toBeCloseTo(1, 12);

      const byStrike = new Map<number, { call: number; put: number; delta: number }>();
      for (const l of valid()) {
        const qq = e.q.get(l.name)!;
        const s = byStrike.get(l.strike) ?? { call: 0, put: 0, delta: 0 };
        const dg = gamma(l.forward, l.strike, l.iv, T(l)) * l.forward ** 2 * 0.01 * qq;
        if (l.isCall) s.call += dg;
        else s.put += dg;
        s.delta += qq * delta(l.forward, l.strike, l.iv, T(l), l.isCall);
        byStrike.set(l.strike, s);
      }
      const scale = Math.max(...[...byStrike.values()].map((s) => Math.abs(s.call) + Math.abs(s.put)));
      for (const s of o.strikes) {
        const x = byStrike.get(s.strike)!;
        near(s.call, x.call, scale);
        near(s.put, x.put, scale);
        near(s.delta, x.delta, Math.max(...[...byStrike.values()].map((v) => Math.abs(v.delta))));
      }
      expect(o.dropped.trades).toMatchObject({ notOption: 1, badSide: 1, badAmount: 1, unknownInstrument: 1 });
      expect(o.dropped.trades!.duplicate).toBeGreaterThan(0);
      expect(o.dropped.trades!.outsideWindow).toBeGreaterThan(0);
    });
  }

  it('flow differs from classic where the tape says dealers hold the other side, and the table labels it an estimate', () => {
    const flow = json([...files(), '--model', 'flow', '--trades', join(dir, 'trades.jsonl')]);
    const classic = json(files());
    expect(flow.total.net).not.toBeCloseTo(classic.total.net, 0);
    expect(classic.positioning).toBeNull();
    const text = run([...files(), '--model', 'flow', '--trades', join(dir, 'trades.jsonl')]).stdout;
    expect(text).toMatch(/flow model \(an estimate\): window from .* trades \(\d+ block\); dealer contracts seen whole [\d.]+ %/);
  });

  it('refuses a flow run without a tape, a corrupt tape line, an error page and a window after now', () => {
    writeFileSync(join(dir, 'bad-line.jsonl'), `${frame(1, { trades: [], has_more: false })}\n{"jsonrpc":\n`);
    writeFileSync(join(dir, 'error-page.jsonl'), JSON.stringify({ jsonrpc: '2.0', id: 9, error: { code: 10028, message: 'too_many_requests' } }) + '\n');
    writeFileSync(join(dir, 'no-trades.jsonl'), frame(1, [1, 2]) + '\n');
    for (const [argv, msg] of [
      [['--model', 'flow'], /--model flow needs --trades FILE/],
      [['--model', 'flow', '--trades', join(dir, 'bad-line.jsonl')], /line 2 is not valid JSON/],
      [['--model', 'flow', '--trades', join(dir, 'error-page.jsonl')], /line 1: Deribit error 10028/],
      [['--model', 'flow', '--trades', join(dir, 'no-trades.jsonl')], /line 1 has no trades list/],
      [['--model', 'flow', '--trades', join(dir, 'trades.jsonl'), '--window-start', String(NOW + 1)], /is after the valuation time/],
      [['--window-start', String(NOW - DAY)], /--window-start applies to --trades/],
    ] as const) {
      const r = run([...files(), ...argv]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    }
  });
});

describe('inputs the CLI refuses (security review 6.6-6.19)', () => {
  const summaryWith = (edit: (rows: Record<string, unknown>[]) => void) => {
    const rows = structuredClone(gen.summary) as Record<string, unknown>[];
    edit(rows.filter((r) => typeof r === 'object' && r !== null));
    const p = join(dir, `summary-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(p, frame(2, rows));
    return ['snapshot', '--instruments', join(dir, 'instruments.json'), '--summary', p];
  };
  const newest = (rows: Record<string, unknown>[]) =>
    rows.filter((r) => /-[CP]$/.test(String(r.instrument_name))).reduce((a, b) => ((b.creation_timestamp as number) >= (a.creation_timestamp as number) ? b : a));

  it('an absurd spot (1e-300) or one row with a x10 index typo: exit 2 naming the row and the gap', () => {
    const absurd = run(summaryWith((rows) => rows.forEach((r) => (r.estimated_delivery_price = 1e-300))));
    expect(absurd.code).toBe(2);
    expect(absurd.stderr).toMatch(/spot 1e-300 .* is 100\.0 % below the 21DEC24 forwards \(median 100,400\)/);
    const typo = run(summaryWith((rows) => (newest(rows).estimated_delivery_price = SPOT / 10)));
    expect(typo.code).toBe(2);
    expect(typo.stderr).toMatch(/spot 10,000 \(estimated_delivery_price of BTC-27JUN25-.*\) is 90\.0 % below the 21DEC24 forwards/);
    expect(typo.stderr.trimEnd().split('\n')).toHaveLength(1);
    // a basis of a few percent is no reason to refuse
    expect(run(summaryWith((rows) => rows.forEach((r) => (r.estimated_delivery_price = SPOT * 0.97)))).code).toBe(0);
  });

  it('names the reasons when every summary row is dropped (not the spot)', () => {
    const r = run(summaryWith((rows) => rows.forEach((x) => (x.mark_iv = -5))));
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no usable option rows \(dropped: badMarkIv \d+/);
  });

  it('reads regular files only, with a size cap: /dev/zero, a FIFO, a directory, an oversized file', () => {
    for (const [path, msg] of [
      ['/dev/zero', /not a regular file/],
      [dir, /EISDIR/],
    ] as const) {
      const r = run(['snapshot', '--instruments', path, '--summary', join(dir, 'summary.json')]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(msg);
    }
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    const t0 = Date.now();
    const r = run(['snapshot', '--instruments', fifo, '--summary', join(dir, 'summary.json')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a regular file/);
    expect(Date.now() - t0).toBeLessThan(2_000); // not blocked waiting for a writer
    expect(() => readInputFile(join(dir, 'summary.json'), 1000)).toThrow(/larger than/);
    // a byte-order mark (as some editors save) is skipped, not a JSON error
    const bom = join(dir, 'bom.json');
    writeFileSync(bom, '\uFEFF' + readFileSync(join(dir, 'instruments.json'), 'utf8'));
    expect(run(['snapshot', '--instruments', bom, '--summary', join(dir, 'summary.json')]).code).toBe(0);
  });

  it('--now and --window-start are bounded like the files (2000-2200)', () => {
    for (const v of ['9007199254740991', '100']) {
      const r = run([...files(), '--now', v]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--now .* is outside 2000-2200/);
    }
  });
});
