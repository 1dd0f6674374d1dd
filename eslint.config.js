import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import importX from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// The layers of the product and who may import whom. A new upward import fails `npm run lint`.
// Paths are relative to this file; specifiers written with `.js` resolve to the `.ts` sources.
const notShipped = ['./sandbox', './test', './bench'];
const layerZones = [
  {
    target: './src/domain',
    from: './src',
    except: ['./domain'],
    message: 'src/domain is pure: it imports only src/domain.',
  },
  {
    target: './src/domain',
    from: ['./commands', './views', ...notShipped],
    message: 'src/domain is pure: it imports only src/domain.',
  },
  {
    target: './src/providers',
    from: ['./src/app', './src/queue', './commands'],
    message: 'Providers sit below the app, the queue and the commands: they never import them.',
  },
  {
    target: './src/queue',
    from: ['./src/app', './commands'],
    message: 'The worker never imports the Slack app or the commands.',
  },
  {
    target: './views',
    from: './src',
    except: ['./domain'],
    message: 'Views are pure Block Kit builders: they import only src/domain and views/.',
  },
  {
    target: './views',
    from: ['./commands', ...notShipped],
    message: 'Views are pure Block Kit builders: they import only src/domain and views/.',
  },
  {
    target: ['./src', './commands', './views'],
    from: notShipped,
    message: 'The product ships without sandbox/, test/ and bench/: it never imports them.',
  },
];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'coverage/**', 'bench/results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  // Line breaks and spacing are Prettier's (`npm run format`); lint keeps to what formatting cannot decide.
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: import.meta.dirname })],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones: layerZones }],
    },
  },
  // Pure also means no package and no Node built-in: no I/O, no clock but the one handed in.
  {
    files: ['src/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^[^.]', message: 'src/domain is pure: it imports only src/domain.' }] },
      ],
    },
  },
  {
    files: ['views/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^[^.]', message: 'Views are pure Block Kit builders: they import only src/domain and views/.' },
          ],
        },
      ],
    },
  },
);
