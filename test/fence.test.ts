/**
 * The dependency fence holds (issue 12): a wrong-way import is refused by lint (eslint.config.js) and,
 * with lint off, by the TypeScript project references (`tsc -b`, one project per layer); a right-way
 * import passes both. Each probe is a one-line file in the layer it would break.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Probe {
  /** The layer's folder (from the repository root) and the tsconfig of its project there. */
  layer: string;
  project?: string;
  code: string;
  allowed: boolean;
  what: string;
}

const PROBES: Probe[] = [
  { layer: 'src/ui', code: "import { computeGex } from '../engine/index.ts';\nexport const p = computeGex;\n", allowed: false, what: 'ui -> engine' },
  { layer: 'src/ui', code: "import { okxAdapter } from '../feeds/okx/index.ts';\nexport const p = okxAdapter;\n", allowed: false, what: 'ui -> feeds' },
  { layer: 'src/ui', code: "import { EngineHost } from '../worker/host.ts';\nexport const p = EngineHost;\n", allowed: false, what: 'ui -> the worker host' },
  { layer: 'src/state', code: "import { RecomputeScheduler } from '../worker/scheduler.ts';\nexport const p = RecomputeScheduler;\n", allowed: false, what: 'state -> worker beyond its protocol' },
  { layer: 'src/feeds', code: "import { mulberry32 } from '../../server/sim/prng.ts';\nexport const p = mulberry32;\n", allowed: false, what: 'src -> server' },
  { layer: 'src/engine', code: "import type { OptionInstrument } from '../chain/model.ts';\nexport type P = OptionInstrument;\n", allowed: false, what: 'engine -> chain' },
  { layer: 'server', code: "import { PROTOCOL_VERSION } from '../src/worker/protocol.ts';\nexport const p = PROTOCOL_VERSION;\n", allowed: false, what: 'server -> the worker' },
  { layer: 'server', code: "import { computeGex } from '../src/engine/index.ts';\nexport const p = computeGex;\n", allowed: true, what: 'server -> engine' },
  { layer: 'src/ui', code: "import { createGexStore } from '../state/store.ts';\nexport const p = createGexStore;\n", allowed: true, what: 'ui -> state' },
  { layer: 'src/state', code: "import { PROTOCOL_VERSION } from '../worker/protocol.ts';\nexport const p = PROTOCOL_VERSION;\n", allowed: true, what: 'state -> worker protocol' },
];

const eslint = new ESLint({ cwd: root });

describe('lint refuses wrong-way imports', () => {
  for (const p of PROBES) {
    it(`${p.allowed ? 'allows' : 'refuses'} ${p.what}`, async () => {
      const [r] = await eslint.lintText(p.code, { filePath: path.join(root, p.layer, '__fence_probe.ts') });
      const fenced = r.messages.filter((m) => m.ruleId === 'no-restricted-imports');
      expect(fenced.length > 0, JSON.stringify(r.messages)).toBe(!p.allowed);
    });
  }
});

/** tsconfig text without comments (the layer configs carry why-comments). */
const readJsonc = (file: string) => JSON.parse(readFileSync(file, 'utf8').replace(/^\s*\/\/.*$/gm, '')) as { references?: { path: string }[] };

/**
 * Builds a one-file project beside the layer's own, with the same references (they are not inherited
 * through `extends`): `tsc -b` then checks only the probe against the layers' declarations.
 */
function tscProbe(p: Probe, n: number): Promise<{ ok: boolean; out: string }> {
  const dir = path.join(root, p.layer);
  const own = readJsonc(path.join(dir, p.project ?? 'tsconfig.json'));
  const tmp = mkdtempSync(path.join(tmpdir(), 'gexdesk-fence-'));
  // named like a type test: no layer project includes it (so parallel probes never leak into a layer)
  const probeFile = `__fence_probe_${process.pid}_${n}.test-d.ts`;
  const config = path.join(dir, `tsconfig.__fence_${process.pid}_${n}.json`);
  writeFileSync(path.join(dir, probeFile), p.code);
  writeFileSync(config, JSON.stringify({
    extends: `./${p.project ?? 'tsconfig.json'}`,
    // rootDir the repository: whatever a probe pulls in is emitted under tmp, never beside the sources
    compilerOptions: { rootDir: root, outDir: tmp, tsBuildInfoFile: path.join(tmp, 'probe.tsbuildinfo') },
    include: [],
    files: [probeFile],
    references: own.references ?? [],
  }));
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b', config], { cwd: root });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => {
      rmSync(path.join(dir, probeFile), { force: true });
      rmSync(config, { force: true });
      rmSync(tmp, { recursive: true, force: true });
      resolve({ ok: code === 0, out });
    });
  });
}

describe('the project references refuse them with lint off (tsc -b)', () => {
  it('each probe builds or fails as its layer allows', async () => {
    const results = await Promise.all(PROBES.map((p, n) => tscProbe(p, n)));
    PROBES.forEach((p, n) => {
      expect(results[n].ok, `${p.what}: ${results[n].out.slice(0, 400)}`).toBe(p.allowed);
      if (!p.allowed) expect(results[n].out).toMatch(/error TS6307/); // a file of a project not referenced
    });
  }, 120_000);
});
