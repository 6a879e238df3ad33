import neostandard from 'neostandard'
import tseslint from 'typescript-eslint'

export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'data/**', 'coverage/**', 'scratch/**'] }),
  {
    files: ['**/*.ts'],
    ignores: ['console/**'],
    languageOptions: { parser: tseslint.parser, parserOptions: { project: './tsconfig.json' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
    },
  },
  {
    // The web console: browser code with its own compiler settings (console/tsconfig.json).
    files: ['console/src/**/*.ts', 'console/src/**/*.tsx'],
    languageOptions: { parser: tseslint.parser, parserOptions: { project: './console/tsconfig.json' } },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      // Event handlers start async work whose errors the work shows itself: `void work()` says so.
      'no-void': ['error', { allowAsStatement: true }],
    },
  },
  {
    // Config is parsed once in the entries and passed down (docs/architecture.md, "Rooms").
    files: ['src/**/*.ts'],
    ignores: ['src/config.ts', 'src/server.ts', 'src/worker.ts', 'src/cli.ts', 'src/client/main.ts'],
    rules: {
      'no-restricted-properties': ['error', { object: 'process', property: 'env', message: 'Read the environment in src/config.ts (loadConfig) and pass config down.' }],
      'no-restricted-imports': ['error', {
        paths: ['process', 'node:process'].map((name) => ({ name, importNames: ['env'], message: 'Read the environment in src/config.ts (loadConfig) and pass config down.' })),
      }],
    },
  },
]
