import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

// Layering (see shared design): ui -> state -> worker/protocol; worker -> feeds, chain, engine;
// feeds -> chain, engine; engine -> nothing of ours. Enforced here rather than hoped for.
const noImport = (...groups) => ({
  'no-restricted-imports': ['error', { patterns: groups.map((g) => ({ group: [g], message: 'Layering: see eslint.config.js' })) }],
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench/out/**'] },
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
  { files: ['src/engine/**/*.ts'], ignores: ['src/engine/**/*.test.ts'], rules: noImport('**/chain/**', '**/feeds/**', '**/worker/**', '**/state/**', '**/ui/**', 'react', 'ws', 'node:*') },
  { files: ['src/chain/**/*.ts'], ignores: ['src/chain/**/*.test.ts'], rules: noImport('**/feeds/**', '**/worker/**', '**/state/**', '**/ui/**', 'react') },
  { files: ['src/feeds/**/*.ts'], ignores: ['src/feeds/**/*.test.ts'], rules: noImport('**/worker/**', '**/state/**', '**/ui/**', 'react') },
  { files: ['src/worker/**/*.ts'], ignores: ['src/worker/**/*.test.ts'], rules: noImport('**/state/**', '**/ui/**', 'react') },
  { files: ['src/state/**/*.ts'], ignores: ['src/state/**/*.test.ts'], rules: noImport('**/ui/**', '**/feeds/**', '**/engine/**', '**/chain/**', '**/worker/host*') },
);
