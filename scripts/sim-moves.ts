/**
 * Where the simulator's market changes state, for scripting tests against it (e2e/time-attention.spec.ts):
 * `node --import tsx scripts/sim-moves.ts [--start ISO] [--hours H] [--step S] [--seed N] [--currency BTC|ETH] [--around MS,MS...] [--trades-per-minute N]`
 * walks the simulator (seed 42, by default from Friday 6 March 2026 06:00 UTC, 7 days, every 60 s),
 * values its chain with the engine as the page does (Deribit, classic dealers, every expiry, lines under
 * an hour to expiry left out, spot = index) and prints each instant where the regime, spot's side of
 * zero gamma, the call wall or the put wall differ from the step before. `--around` steps only from 3 min
 * before to 10 min after each given instant (with e.g. `--step 5`, to find a move to the second): the
 * market is the one started at `--start`, whatever instants are looked at.
 */
import { MarketSim, type Currency } from '../server/sim/market.ts';
import { EXPIRING_MS, computeGex } from '../src/engine/index.ts';
import { allocColumns } from '../src/chain/columns.ts';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
}

const start = Date.parse(arg('start', '2026-03-06T06:00:00Z'));
const hours = Number(arg('hours', '168'));
const stepMs = Number(arg('step', '60')) * 1000;
const seed = Number(arg('seed', '42'));
const currency = arg('currency', 'BTC') as Currency;
const tradesPerMinute = arg('trades-per-minute', '');
const around = arg('around', '').split(',').filter((x) => x !== '').map(Number);
if (!Number.isFinite(start) || !(hours > 0) || !(stepMs >= 1000) || !Number.isInteger(seed) || !['BTC', 'ETH'].includes(currency) || !around.every((t) => Number.isFinite(t) && t > start) || (tradesPerMinute !== '' && !(Number(tradesPerMinute) >= 0))) {
  console.error('usage: sim-moves.ts [--start ISO] [--hours H] [--step S >= 1] [--seed N] [--currency BTC|ETH] [--around MS,MS... after the start] [--trades-per-minute N >= 0]');
  process.exit(2);
}

// the trading knob as the server's --trades-per-minute: 0 keeps open interest still (the page reads it every 30 s)
const sim = new MarketSim({ seed, startMs: start, trades: tradesPerMinute === '' ? undefined : { tradesPerMinute: Number(tradesPerMinute) } });
let prev: string[] | null = null;
console.log('venue time (UTC)          ms             spot    zero γ  regime    side   call wall put wall  changed');
/** The instants to value: every step of the span, or the steps around each `--around` instant (ascending). */
function* instants(): Generator<number> {
  if (around.length === 0) {
    for (let t = start + stepMs; t <= start + hours * 3_600_000; t += stepMs) yield t;
    return;
  }
  for (const c of [...around].sort((x, y) => x - y)) {
    prev = null;
    for (let t = Math.max(start + stepMs, c - 180_000); t <= c + 600_000; t += stepMs) yield t;
  }
}

for (const t of instants()) {
  sim.advanceTo(t);
  const defs = sim.instruments(currency).filter((d) => d.expiryMs - t >= EXPIRING_MS);
  const n = defs.length;
  const chain = allocColumns(n);
  for (const d of defs) {
    const q = sim.quote(d.name);
    if (!q) continue;
    const k = chain.length++;
    chain.strike[k] = d.strike;
    chain.expiryMs[k] = d.expiryMs;
    chain.isCall[k] = d.isCall ? 1 : 0;
    chain.markIv[k] = q.markIvPct / 100;
    chain.forward[k] = q.forward;
    chain.openInterest[k] = q.openInterest;
    chain.multiplier[k] = 1;
  }
  const g = computeGex(chain, { spot: sim.index(currency), nowMs: t, model: 'classic' });
  const side = g.zeroGammaLevel === null ? 'none' : g.spot > g.zeroGammaLevel ? 'above' : 'below';
  const state = [g.regime, side, String(g.callWall), String(g.putWall)];
  const changed = prev ? ['regime', 'zero', 'call wall', 'put wall'].filter((_, i) => state[i] !== prev![i]) : ['(start)'];
  if (changed.length > 0) {
    console.log(`${new Date(t).toISOString()}  ${t}  ${g.spot.toFixed(0).padStart(7)}  ${(g.zeroGammaLevel?.toFixed(0) ?? '-').padStart(7)}  ${g.regime.padEnd(8)}  ${side.padEnd(5)}  ${String(g.callWall).padStart(8)}  ${String(g.putWall).padStart(8)}  ${changed.join(', ')}`);
  }
  prev = state;
}
