/** What the bench modules share: the repo root, a production build of the app, a trend slope, the live result rate. */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** One printed figure of a bench module's run(). */
export interface Figure {
  name: string;
  value: number;
  unit: string;
}

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Builds the app into `outDir` (under bench/out, so a bench never serves a stale dist/). */
export function buildApp(outDir: string): void {
  const r = spawnSync(process.execPath, [join(root, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--outDir', outDir, '--emptyOutDir'], {
    cwd: root, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`vite build failed: ${r.stderr || r.stdout}`);
}

/** Least-squares slope of y over x: the growth the soaks judge after warm-up. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * Results a live page is sent per hour: the worker posts at most 4 a second whatever the venue's pace.
 * A fast soak shows far fewer per simulated hour (30 at 480x), so the soaks also scale their growth per
 * result to a live hour: what a wall display would grow by.
 */
export const LIVE_RESULTS_PER_H = 4 * 3600;

/** Fewer samples after warm-up than this and a slope says nothing: the soaks then judge "too short", never flat. */
export const MIN_TREND_SAMPLES = 4;
