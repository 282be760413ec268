/**
 * `npm run bench`: runs every bench/*.bench.ts module's exported run() in sequence (alphabetical)
 * and prints its figures. A module's run() may be async and returns [{name, value, unit}].
 * Figures are saved to bench/out/<module>.json (git-ignored); the next run on the same machine
 * prints each figure against that previous run, so a regression shows as a ratio, not a guess.
 * `npm run bench -- engine` runs only the modules whose file name starts with "engine" (so `soak` is the
 * Node soak alone and `chromium-soak` the page's).
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import type { Figure } from './lib.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e6) return v.toExponential(3);
  if (a >= 100) return v.toFixed(0);
  if (a >= 1) return v.toFixed(3);
  return v.toPrecision(3);
}

async function main(): Promise<void> {
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.bench.ts'))
    .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o)))
    .sort();
  let failed = 0;
  for (const f of files) {
    console.log(`\n== ${f}`);
    try {
      const mod = (await import(pathToFileURL(join(here, f)).href)) as { run?: () => Figure[] | Promise<Figure[]> | void };
      if (typeof mod.run !== 'function') {
        console.log('  (no exported run())');
        continue;
      }
      const figures = (await mod.run()) ?? [];
      const outFile = join(here, 'out', f.replace(/\.ts$/, '.json'));
      let previous: Figure[] = [];
      try {
        previous = JSON.parse(readFileSync(outFile, 'utf8')) as Figure[];
      } catch {
        // first run on this machine: nothing to compare with
      }
      const w = Math.max(0, ...figures.map((x) => x.name.length));
      const uw = Math.max(0, ...figures.map((x) => x.unit.length));
      for (const x of figures) {
        const prev = previous.find((p) => p.name === x.name);
        const cmp = prev && prev.value !== 0 ? `  (previous run ${fmt(prev.value)}, now x${(x.value / prev.value).toFixed(2)})` : '';
        console.log(`  ${x.name.padEnd(w)}  ${fmt(x.value).padStart(12)}  ${x.unit.padEnd(uw)}${cmp}`);
      }
      mkdirSync(join(here, 'out'), { recursive: true });
      writeFileSync(outFile, JSON.stringify(figures, null, 1));
    } catch (e) {
      failed++;
      console.log(`  FAILED: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed > 0) process.exitCode = 1;
}

void main();
