// ESLint flat config: type-checked rules plus the import boundaries of STYLE.md.
import tseslint from 'typescript-eslint';

const nodeAndIo = ['node:*', '@nats-io/*', 'pino', 'pino/*', '@statelyai/inspect', 'ws'];
const pureCore = {
  patterns: [
    { group: nodeAndIo, message: 'pure core: no Node built-ins, NATS, pino or inspector here' },
    { group: ['**/net/**', '**/dns/net/*', '../net/*', './net/*'], message: 'pure core: no sockets (dns/net)' },
    { group: ['**/actors/**', '**/broker/**', '**/cli/**'], message: 'pure core: may not import the shell' },
  ],
};
const noActors = {
  patterns: [{ group: ['**/actors/**', '**/cli/**'], message: 'nothing imports actors/ or cli/' }],
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', 'bin/**', 'docs/**', 'deploy/**', 'eslint.config.js'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  { files: ['machines/**/*.ts', 'protocol/**/*.ts'], ignores: ['**/*.test.ts'], rules: { 'no-restricted-imports': ['error', pureCore] } },
  {
    files: ['dns/**/*.ts'],
    ignores: ['dns/net/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:dgram', 'node:net', 'node:tls', 'node:http', 'node:https', 'node:fs', 'node:fs/promises', 'node:worker_threads', 'node:child_process', '@nats-io/*', 'pino'],
              message: 'dns/ is pure: I/O lives in dns/net',
            },
            { group: ['./net/*', '../net/*', '**/net/**'], message: 'dns/ may not import dns/net' },
            { group: ['**/actors/**', '**/broker/**', '**/cli/**', '**/machines/**', '**/protocol/**'], message: 'dns/ is the bottom layer' },
          ],
        },
      ],
    },
  },
  { files: ['broker/**/*.ts', 'dns/net/**/*.ts'], rules: { 'no-restricted-imports': ['error', noActors] } },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'test/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
