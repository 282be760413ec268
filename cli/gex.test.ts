import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { runCli, type SnapshotOutput } from './gex.ts';
import { EXP_MS, NOW, SPOT, frame, generate, type Gen } from './fixtures.ts';
import { delta, gamma, yearFraction } from '../src/engine/black76.ts';

let dir = '';
let gen: ReturnType<typeof generate>;
const run = (argv: string[]) => {
  let stdout = '';
  let stderr = '';
  const code = runCli(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), readFile: (p) => readFileSync(p, 'utf8') });
  return { code, stdout, stderr };
};
const files = () => ['--instruments', join(dir, 'instruments.json'), '--summary', join(dir, 'summary.json')];

/** Independent expectation for the valid lines (optionally one subset of expiries). */
function expected(sign: (l: Gen) => number, filter: (l: Gen) => boolean = () => true) {
  const valid = gen.lines.filter((l) => l.valid && filter(l));
  const T = (l: Gen) => yearFraction(l.expiryMs, NOW);
  const dg = (l: Gen, x: number) => {
    const F = l.forward * (1 + x);
    return sign(l) * gamma(F, l.strike, l.iv, T(l)) * F * F * 0.01 * l.oi;
  };
  const byStrike = new Map<number, { call: number; put: number }>();
  for (const l of valid) {
    const s = byStrike.get(l.strike) ?? { call: 0, put: 0 };
    if (l.isCall) s.call += dg(l, 0);
    else s.put += dg(l, 0);
    byStrike.set(l.strike, s);
  }
  const totalAt = (x: number) => valid.reduce((a, l) => a + dg(l, x), 0);
  const dealerDelta = (x: number) => valid.reduce((a, l) => a + sign(l) * l.oi * delta(l.forward * (1 + x), l.strike, l.iv, T(l), l.isCall), 0);
  return { valid, byStrike, totalAt, dealerDelta };
}
const classicSign = (l: Gen) => (l.isCall ? 1 : -1);
const close = (a: number, b: number, rel = 1e-9) => expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(b)));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gex-cli-'));
  gen = generate();
  writeFileSync(join(dir, 'instruments.json'), frame(1, gen.instruments));
  writeFileSync(join(dir, 'summary.json'), frame(2, gen.summary));
  writeFileSync(join(dir, 'error.json'), JSON.stringify({ jsonrpc: '2.0', id: 3, error: { code: 10028, message: 'too_many_requests' } }));
  writeFileSync(join(dir, 'broken.json'), '{"jsonrpc":"2.0","result":[');
});

describe('gex snapshot on a generated 1,080-line Deribit chain', () => {
  it('the fixture has the bad lines it claims', () => {
    expect(gen.lines.length).toBe(1080);
    expect(gen.bad).toEqual({ ivZero: 10, oiNegative: 5, noSummary: 7 });
  });

  it('prints per-strike rows, totals, zero gamma, flows, levels and exclusions that match independent values', () => {
    const r = run(['snapshot', ...files(), '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as SnapshotOutput;
    expect(o.spot).toBe(SPOT);
    expect(o.nowMs).toBe(NOW);
    expect(o.model).toBe('classic');
    const e = expected(classicSign);
    expect(o.includedLines).toBe(e.valid.length);
    expect(o.includedLines).toBe(1080 - 180 - 22);
    expect(o.excluded).toEqual({ expired: 180, ivMissing: 22, ivNonPositive: 0, ivAbsurd: 0, oiMissing: 0, oiNegative: 0, strikeInvalid: 0, forwardInvalid: 0, multiplierInvalid: 0 });
    expect(o.dropped).toEqual({
      instruments: { notOption: 2, badContractSize: 1 },
      summary: { badMarkIv: 10, badOpenInterest: 5, notOption: 2, malformed: 1 },
      unknownLines: 4,
    });

    expect(o.strikes.map((s) => s.strike)).toEqual([...e.byStrike.keys()].sort((a, b) => a - b));
    for (const s of o.strikes) {
      const x = e.byStrike.get(s.strike)!;
      close(s.call, x.call);
      close(s.put, x.put);
      close(s.net, x.call + x.put);
    }
    close(o.total.net, e.totalAt(0));
    close(o.total.call + o.total.put, o.total.net);

    // zero gamma: the independent total changes sign within 0.01 % of S around the reported level
    expect(o.zeroGamma).not.toBeNull();
    const x0 = (o.zeroGamma as number) / SPOT - 1;
    expect(Math.sign(e.totalAt(x0 - 1e-4))).toBe(-Math.sign(e.totalAt(x0 + 1e-4)));
    expect(o.crossings[0]).toBe(o.zeroGamma);
    for (let k = 1; k < o.crossings.length; k++) expect(Math.abs(o.crossings[k] - SPOT)).toBeGreaterThanOrEqual(Math.abs(o.crossings[k - 1] - SPOT));

    // flows by full revaluation
    expect(o.flows.map((f) => f.move)).toEqual(Array.from({ length: 21 }, (_, k) => (k - 10) / 100));
    const d0 = e.dealerDelta(0);
    for (const f of o.flows) {
      const units = -(e.dealerDelta(f.move) - d0);
      close(f.units, units, 1e-8);
      close(f.usd, units * SPOT * (1 + f.move), 1e-8);
    }

    // levels from the independent per-strike values
    const rows = [...e.byStrike.entries()];
    const argmax = (f: (v: { call: number; put: number }) => number) => rows.reduce((a, b) => (f(b[1]) > f(a[1]) ? b : a))[0];
    expect(o.levels.callWall).toBe(argmax((v) => v.call));
    expect(o.levels.putWall).toBe(argmax((v) => Math.abs(v.put)));
    expect(o.levels.largestAbsGammaStrike).toBe(argmax((v) => Math.abs(v.call + v.put)));
    expect(o.levels.regime).toBe(e.totalAt(0) > 0 ? 'positive' : 'negative');
  });

  it('--model short and --expiries (labels and ms) restrict and re-sign the sums', () => {
    const sel = new Set([EXP_MS['27DEC24'], EXP_MS['28MAR25']]);
    const r = run(['snapshot', ...files(), '--json', '--model', 'short', '--expiries', `27dec24,${EXP_MS['28MAR25']}`]);
    expect(r.code).toBe(0);
    const o = JSON.parse(r.stdout) as SnapshotOutput;
    expect(o.model).toBe('short');
    const e = expected(() => -1, (l) => sel.has(l.expiryMs));
    close(o.total.net, e.totalAt(0));
    expect(o.total.call).toBeLessThan(0);
    expect(o.byExpiry.map((b) => b.expiry)).toEqual(['27DEC24', '28MAR25']);
    expect(o.includedLines).toBe(e.valid.length);
    // the expired expiry was not selected, so nothing is counted as expired
    expect(o.excluded.expired).toBe(0);
    // dealers short every call: the wall is still where call gamma concentrates (largest magnitude)
    const mostCallGamma = o.strikes.reduce((a, b) => (Math.abs(b.call) > Math.abs(a.call) ? b : a));
    expect(o.levels.callWall).toBe(mostCallGamma.strike);
    expect(o.levels.regime).toBe('negative');
  });

  it('--now overrides the valuation time', () => {
    const later = EXP_MS['21DEC24'];
    const o = JSON.parse(run(['snapshot', ...files(), '--json', '--now', String(later)]).stdout) as SnapshotOutput;
    expect(o.nowMs).toBe(later);
    expect(o.excluded.expired).toBe(360);
  });

  it('prints a readable aligned table without --json', () => {
    const r = run(['snapshot', ...files()]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toContain('spot 100,000');
    const header = lines.find((l) => /^\s*strike\s+call\s+put\s+net\s+delta BTC\s+vanna BTC\s+charm BTC$/.test(l))!;
    expect(header).toBeDefined();
    const start = lines.indexOf(header);
    const totalRow = lines.find((l) => l.trimStart().startsWith('total'))!;
    expect(totalRow.length).toBe(header.length); // right-aligned columns
    expect(lines[start + 2].length).toBe(header.length);
    expect(r.stdout).toMatch(/zero gamma: [\d,.]+/);
    expect(r.stdout).toContain('excluded: expired 180, ivMissing 22');
    expect(r.stdout).toMatch(/levels: call wall [\d,]+ {2}put wall [\d,]+/);
  });

  it('bad files and arguments: one error line, exit code 2, no stack', () => {
    const cases: [string[], RegExp][] = [
      [['snapshot', '--instruments', join(dir, 'missing.json'), '--summary', join(dir, 'summary.json')], /cannot read instruments file .*ENOENT/],
      [['snapshot', '--instruments', join(dir, 'broken.json'), '--summary', join(dir, 'summary.json')], /not valid JSON/],
      [['snapshot', '--instruments', join(dir, 'instruments.json'), '--summary', join(dir, 'error.json')], /Deribit error 10028: too_many_requests/],
      [['snapshot', '--instruments', join(dir, 'summary.json'), '--summary', join(dir, 'summary.json')], /lists no BTC options/],
      [['snapshot', ...files(), '--model', 'long'], /--model must be classic, short, flow/],
      [['snapshot', ...files(), '--expiries', '30FEB25'], /neither a Deribit expiry/],
      [['snapshot', ...files(), '--expiries', '26DEC25'], /not an expiry of the listed instruments/],
      [['snapshot', ...files(), '--now', 'yesterday'], /--now must be epoch milliseconds/],
      [['snapshot', '--summary', join(dir, 'summary.json')], /--instruments FILE is required/],
      [['replay'], /unknown command/],
      [['snapshot', ...files(), '--bogus'], /unknown argument/],
    ];
    for (const [argv, msg] of cases) {
      const r = run(argv);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(msg);
      expect(r.stderr.trimEnd().split('\n').length).toBe(1);
    }
  });
});

describe('end to end: node --import tsx cli/gex.ts', () => {
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  it('prints the same JSON as the in-process run, and exits 2 with one line on a bad file', () => {
    const p = spawnSync(process.execPath, ['--import', 'tsx', 'cli/gex.ts', 'snapshot', ...files(), '--json'], { cwd, encoding: 'utf8', timeout: 60_000 });
    expect(p.status).toBe(0);
    expect(JSON.parse(p.stdout)).toEqual(JSON.parse(run(['snapshot', ...files(), '--json']).stdout));
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'cli/gex.ts', 'snapshot', '--instruments', join(dir, 'broken.json'), '--summary', join(dir, 'summary.json')], {
      cwd,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});
