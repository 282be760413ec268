/**
 * `npm run bench`: runs every bench/*.bench.ts module's exported run() in sequence (alphabetical)
 * and prints its figures. A module's run() may be async and returns [{name, value, unit}].
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

interface Figure {
  name: string;
  value: number;
  unit: string;
}

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
    .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
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
      const w = Math.max(0, ...figures.map((x) => x.name.length));
      for (const x of figures) console.log(`  ${x.name.padEnd(w)}  ${fmt(x.value).padStart(12)}  ${x.unit}`);
    } catch (e) {
      failed++;
      console.log(`  FAILED: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed > 0) process.exitCode = 1;
}

void main();
