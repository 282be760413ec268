import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

/*
 * Layering (README "Layout"): ui -> state -> worker/protocol; worker -> feeds, chain, engine;
 * feeds -> chain, engine; chain -> engine types; engine -> nothing of ours; src/shared is the leaf every
 * layer may import and that imports nothing. Each layer's rule lists what it may NOT reach (the allow
 * list's complement, with `!` exceptions), and the TypeScript project references (tsconfig.json,
 * `tsc -b`) refuse the same imports with lint off. test/fence.test.ts checks both.
 */
const OUTSIDE_SRC = ['**/server/**', '**/cli/**', '**/bench/**', '**/e2e/**', '**/scripts/**'];
const fence = (patterns, opts = {}) => ({
  'no-restricted-imports': ['error', { patterns: patterns.map((group) => ({ group, message: 'Layering: see eslint.config.js and README "Layout"', ...opts })) }],
});
const layer = (dir, patterns, typeOnly = []) => ({
  files: [`src/${dir}/**/*.{ts,tsx}`],
  ignores: [`src/${dir}/**/*.test.ts`, `src/${dir}/**/*.test-d.ts`],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [
        { group: [...patterns, ...OUTSIDE_SRC], message: 'Layering: see eslint.config.js and README "Layout"' },
        ...(typeOnly.length > 0 ? [{ group: typeOnly, allowTypeImports: true, message: 'Layering: types only from this layer' }] : []),
      ],
    }],
  },
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench/out/**', '.tsbuild/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'], plugins: { 'react-hooks': reactHooks }, rules: reactHooks.configs.recommended.rules },
  // Nothing under src/ (tests included) reaches into the server, the CLI or the tools: what a test needs
  // from them comes through a public entry or a helper outside src/.
  { files: ['src/**/*.{ts,tsx}'], rules: fence([OUTSIDE_SRC]) },
  layer('shared', ['../*', '../**', 'react', 'zustand', 'ws', 'node:*']),
  layer('engine', ['**/chain/**', '**/feeds/**', '**/worker/**', '**/state/**', '**/ui/**', 'react', 'ws', 'node:*']),
  layer('chain', ['**/feeds/**', '**/worker/**', '**/state/**', '**/ui/**', 'react'], ['**/engine/**']),
  layer('feeds', ['**/worker/**', '**/state/**', '**/ui/**', 'react']),
  layer('worker', ['**/state/**', '**/ui/**', 'react']),
  layer('state', ['**/worker/*', '!**/worker/protocol.ts', '**/engine/**', '**/feeds/**', '**/chain/**', '**/ui/**']),
  layer('ui', ['**/worker/*', '!**/worker/protocol.ts', '**/engine/**', '**/feeds/**', '**/chain/**']),
  // The venue server runs the real clients and the engine, never the page's worker, state or UI.
  { files: ['server/**/*.ts'], ignores: ['server/**/*.test.ts', 'server/testing/**'], rules: fence([['**/src/worker/**', '**/src/state/**', '**/src/ui/**', 'react', '**/cli/**', '**/bench/**', '**/e2e/**']]) },
  { files: ['src/main.tsx'], rules: fence([['**/worker/*', '!**/worker/protocol.ts', '**/engine/**', '**/feeds/**', '**/chain/**', ...OUTSIDE_SRC]]) },
);
