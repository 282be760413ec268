/**
 * Engine benchmark (issues 2, 13, 14 "Performance"): sweep evaluations per second on a 1,000-line
 * chain over 401 spots against a bare Math.exp loop of the same count, in the same run; the full
 * recompute (exposure, delta/vanna/charm, 401-point profile, zero gamma, 21 moves, levels and the
 * page's default scenario ladder) at 1,000 lines and at 2,500 (four venues); the flow model's cost
 * against classic; and the same work in numpy/scipy (bench/peer/engine_numpy.py) on the same chain,
 * whose numbers double as a cross-check of the engine's.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { computeGex, gexAcrossSpotMoves, gexProfile, prepareLines, PreparedLines, classic, DEFAULT_MOVES } from '../src/engine/index.ts';
import type { ChainColumns, ExposureParams, LineTrades, ScenarioAxes } from '../src/engine/types.ts';
import { syntheticChain } from '../src/engine/fixtures.ts';
import { root, type Figure } from './lib.ts';

const LINES = 1000;
const SPOTS = 401;
const SPOT = 60_000;
const NOW = Date.UTC(2024, 0, 1, 8);
/** The page's default ladder: 11 moves x (now, +1 h, +8 h, +24 h, through the next expiry) x 5 vol shifts. */
const LADDER: ScenarioAxes = {
  moves: [-0.1, -0.05, -0.03, -0.02, -0.01, 0, 0.01, 0.02, 0.03, 0.05, 0.1],
  hours: [0, 1, 8, 24, 24], // the synthetic chain's next expiry is 24 h away
  volShifts: [-0.05, -0.02, 0, 0.02, 0.05],
};

function bareExpLoop(count: number, seed: number): number {
  // Same shape as the sweep's inner loop without the line constants: exp(-d^2/2) summed, with d
  // sweeping [-6, 6) like the sweep's d1 values do (exp's cost depends little on its argument).
  let sum = 0;
  let x = seed - 6;
  for (let i = 0; i < count; i++) {
    sum += Math.exp(-0.5 * x * x);
    x += 0.0123;
    if (x >= 6) x -= 12;
  }
  return sum;
}

function timeIt(fn: () => void, minMs: number): { perCallMs: number; calls: number } {
  let calls = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    fn();
    calls++;
    t = performance.now();
  }
  return { perCallMs: (t - t0) / calls, calls };
}

/** Median and p99 of `runs` full recomputes, after a warm-up. */
function recomputeTimes(chain: ChainColumns, params: ExposureParams, runs = 300): { median: number; p99: number } {
  const scratch = new PreparedLines();
  let sink = 0;
  for (let i = 0; i < 20; i++) sink += computeGex(chain, params, scratch).totalNetGex;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    sink += computeGex(chain, params, scratch).totalNetGex;
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  if (sink === 42) console.log(''); // keep the work observable
  return { median: times[Math.floor(times.length / 2)], p99: times[Math.min(times.length - 1, Math.floor(times.length * 0.99))] };
}

/** A tape with trades on 70 % of the lines, for the flow model's cost. */
function syntheticTrades(chain: ChainColumns): LineTrades {
  const n = chain.length;
  const t: LineTrades = { windowStartMs: NOW - 7 * 86_400_000, bought: new Float64Array(n), sold: new Float64Array(n), trades: new Float64Array(n), blockTrades: new Float64Array(n) };
  for (let i = 0; i < n; i++) {
    if (i % 10 < 3) continue;
    t.bought[i] = (i * 7) % 13;
    t.sold[i] = (i * 5) % 11;
    t.trades[i] = 3;
  }
  chain.listedMs = Float64Array.from({ length: n }, (_, i) => NOW - (i % 3 === 0 ? 2 : 30) * 86_400_000);
  return t;
}

/** The numpy/scipy peer on the same chain; null with the reason when python3/numpy/scipy are missing. */
function numpyPeer(chain: ChainColumns): { medianMs: number; numpy: string; result: Record<string, number[] | number> } | string {
  const dir = mkdtempSync(join(tmpdir(), 'gex-numpy-'));
  const file = join(dir, 'chain.json');
  const cols = Array.from({ length: chain.length }, (_, i) => i);
  writeFileSync(
    file,
    JSON.stringify({
      spot: SPOT,
      now: NOW,
      runs: 100,
      axes: { ...LADDER, flowMoves: DEFAULT_MOVES },
      chain: {
        strike: cols.map((i) => chain.strike[i]),
        expiry: cols.map((i) => chain.expiryMs[i]),
        call: cols.map((i) => chain.isCall[i]),
        iv: cols.map((i) => chain.markIv[i]),
        fwd: cols.map((i) => chain.forward[i]),
        q: cols.map((i) => (chain.isCall[i] === 1 ? 1 : -1) * chain.openInterest[i]),
        mult: cols.map((i) => chain.multiplier[i]),
      },
    }),
  );
  const p = spawnSync('python3', [join(root, 'bench/peer/engine_numpy.py'), file], { encoding: 'utf8', timeout: 300_000 });
  if (p.error || p.status !== 0) return `numpy peer not run: ${p.error?.message ?? p.stderr.trim().split('\n').pop()}`;
  return JSON.parse(p.stdout) as { medianMs: number; numpy: string; result: Record<string, number[] | number> };
}

const maxRelDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]));
  let d = a.length === b.length ? 0 : Infinity;
  for (let i = 0; i < Math.min(a.length, b.length); i++) d = Math.max(d, Math.abs(a[i] - b[i]) / (scale || 1));
  return d;
};

export function run(): Figure[] {
  const chain = syntheticChain(LINES, SPOT, NOW, 7);
  const lines = new PreparedLines();
  prepareLines(chain, NOW, classic, {}, lines);
  const xs = gexProfile(lines, 0.2, SPOTS).xs;
  const out = new Float64Array(SPOTS);
  const evals = lines.count * SPOTS;

  let sink = 0;
  // warm up both so the JIT has optimised them before we measure
  for (let i = 0; i < 20; i++) {
    gexAcrossSpotMoves(lines, xs, out);
    sink += bareExpLoop(evals, i * 1e-3);
  }
  // interleave the two measurements so machine noise hits both alike; keep the best of 5 rounds
  let bestSweep = Infinity;
  let bestLiteral = Infinity;
  let bestExp = Infinity;
  for (let r = 0; r < 5; r++) {
    const s = timeIt(() => {
      sink += gexProfile(lines, 0.2, SPOTS).values[0];
    }, 200);
    const l = timeIt(() => {
      gexAcrossSpotMoves(lines, xs, out);
      sink += out[0];
    }, 200);
    bestLiteral = Math.min(bestLiteral, l.perCallMs);
    const e = timeIt(() => {
      sink += bareExpLoop(evals, r * 1e-3);
    }, 200);
    bestSweep = Math.min(bestSweep, s.perCallMs);
    bestExp = Math.min(bestExp, e.perCallMs);
  }
  if (sink === 42) console.log('');
  const sweepRate = evals / (bestSweep / 1000);
  const literalRate = evals / (bestLiteral / 1000);
  const expRate = evals / (bestExp / 1000);

  const params: ExposureParams = { spot: SPOT, nowMs: NOW, model: 'classic', scenarios: LADDER };
  const gammaOnly = recomputeTimes(chain, { spot: SPOT, nowMs: NOW, model: 'classic' });
  const full = recomputeTimes(chain, params);
  const fourVenues = recomputeTimes(syntheticChain(2500, SPOT, NOW, 9), params, 150);
  const trades = syntheticTrades(chain);
  const flow = recomputeTimes(chain, { ...params, model: 'flow', trades });
  const classicAgain = recomputeTimes(chain, params);

  const figures: Figure[] = [
    { name: `sweep (log-grid recurrence): ${lines.count} lines x ${SPOTS} spots`, value: sweepRate, unit: 'evaluations/s' },
    { name: 'sweep, one exp per line and point (the literal form)', value: literalRate, unit: 'evaluations/s' },
    { name: `bare Math.exp loop, same count (${evals})`, value: expRate, unit: 'exp/s' },
    { name: 'sweep / bare exp ratio (target >= 0.33)', value: sweepRate / expRate, unit: 'x' },
    { name: `full recompute ${LINES} lines, gamma only, median`, value: gammaOnly.median, unit: 'ms' },
    { name: `full recompute ${LINES} lines + exposures + ladder, median`, value: full.median, unit: 'ms (target < 10)' },
    { name: `full recompute ${LINES} lines + exposures + ladder, p99`, value: full.p99, unit: 'ms' },
    { name: 'full recompute 2500 lines (four venues), median', value: fourVenues.median, unit: 'ms (target < 40)' },
    { name: 'flow model / classic, same chain and ladder', value: flow.median / Math.min(full.median, classicAgain.median), unit: 'x (target <= 1.10)' },
  ];

  const peer = numpyPeer(chain);
  if (typeof peer === 'string') {
    console.log(`  ${peer}`);
    return figures;
  }
  const r = computeGex(chain, { ...params, moves: DEFAULT_MOVES });
  const res = peer.result;
  const agree = Math.max(
    maxRelDiff(r.netGex, res.netGex as number[]),
    maxRelDiff(r.deltaExposure, res.deltaExposure as number[]),
    maxRelDiff(r.vannaExposure, res.vannaExposure as number[]),
    maxRelDiff(r.charmExposure, res.charmExposure as number[]),
    maxRelDiff(r.hedgeFlowUnits, res.flows as number[]),
    maxRelDiff(r.scenarios!.units, res.ladder as number[]),
  );
  // both refine each root to 1e-4 of spot, so crossings agree to that, not to rounding
  const crossings = maxRelDiff(r.zeroGammaCrossings.map((x) => x / SPOT), (res.crossings as number[]).map((x) => x / SPOT));
  figures.push(
    { name: `numpy ${peer.numpy} + scipy, same work and chain, median`, value: peer.medianMs, unit: 'ms' },
    { name: 'engine speed vs numpy/scipy (target >= 1.5, aim 3)', value: peer.medianMs / full.median, unit: 'x' },
    { name: 'largest difference from numpy: per-strike GEX, exposures, flows, ladder', value: agree, unit: 'of each series\' largest' },
    { name: `largest difference from numpy: ${r.zeroGammaCrossings.length} zero-gamma crossings`, value: crossings, unit: 'of spot (both refine to 1e-4)' },
  );
  return figures;
}
