// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      '.shopflow/',
      'coverage/',
      'bench/results/',
      'migrations/',
      'cdk.out/',
      'console/dist/',
      'console/src/api/schema.d.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
  },
  // Layers (docs/architecture.md): main -> app.ts and composition/ (the composition root) ->
  // assembly -> modules -> http -> platform. An import that runs up a layer fails the lint.
  {
    files: ['src/platform/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/modules/**',
                '**/http/**',
                '**/assembly/**',
                '**/composition/**',
                '**/main/**',
                '**/config.ts',
                '**/config/**',
                '**/app.ts',
              ],
              message:
                'platform/ is infrastructure: it imports no module, no HTTP, no assembly and no config.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/modules/**',
                '**/assembly/**',
                '**/composition/**',
                '**/main/**',
                '**/config.ts',
                '**/config/**',
                '**/app.ts',
              ],
              message: 'http/ is the kit every route uses: it imports no module (modules import it).',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/modules/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/assembly/**',
                '**/composition/**',
                '**/main/**',
                '**/config.ts',
                '**/config/**',
                '**/app.ts',
              ],
              message: 'A module gets its settings as plain options from the composition root (src/app.ts).',
            },
            {
              // Another module's tables are reached through its service, never through its SQL.
              group: ['../*/*.sql.ts', '../../modules/*/*.sql.ts'],
              message: "A module touches only its own tables: call the other module's service.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/assembly/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/main/**', '**/composition/**', '**/config.ts', '**/config/**', '**/app.ts'],
              message: 'The server and worker assembly get everything from the composition root.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/composition/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/main/**', '**/app.ts'],
              message: 'The composition root builds what the entry points use; it never imports them.',
            },
          ],
        },
      ],
    },
  },
);
