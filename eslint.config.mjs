// Lint rules that keep the package boundaries honest and promises handled.
import js from '@eslint/js';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '.data/**',
      '.cache/**',
      'packages/contracts/src/gen/**',
      'packages/db/drizzle/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    plugins: { 'import-x': importX },
    settings: { 'import-x/resolver': { node: true } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's test()/describe() return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', name: ['test', 'it', 'describe', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-console': 'error',
      // One public surface per package: import `@sie/x`, never `@sie/x/src/...` or a sibling's files.
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@sie/*/*'],
              message: 'Import a package by its name only (its src/index.ts).',
            },
            {
              group: ['../../packages/*', '../../services/*', '../../../*'],
              message: 'Cross-package imports go through the package name.',
            },
          ],
        },
      ],
      'import-x/no-cycle': 'error',
      'import-x/no-default-export': 'error',
      'import-x/no-self-import': 'error',
      'import-x/no-relative-packages': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportAllDeclaration', message: 'List named exports; no `export *` barrels.' },
      ],
    },
  },
  {
    files: ['**/*.mjs', '**/*.js'],
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly' },
    },
    rules: { 'no-console': 'off' },
  },
  {
    // The API's dashboard: plain ES modules run by the browser, not Node (no build step).
    files: ['services/api/dashboard/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: {
        AbortController: 'readonly',
        CSS: 'readonly',
        document: 'readonly',
        fetch: 'readonly',
        localStorage: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        TextDecoder: 'readonly',
        window: 'readonly',
      },
    },
    rules: { 'no-console': 'error' },
  },
  {
    files: ['eslint.config.mjs'],
    rules: { 'import-x/no-default-export': 'off' },
  },
);
