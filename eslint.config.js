// ESLint flat config: type-checked rules plus the import boundaries of STYLE.md.
import tseslint from 'typescript-eslint';

const nodeAndIo = ['node:*', '@nats-io/*', 'pino', 'pino/*', '@statelyai/inspect', 'ws'];
const pureCore = {
  patterns: [
    { group: nodeAndIo, message: 'pure core: no Node built-ins, NATS, pino or inspector here' },
    { group: ['**/net/**', '**/dns/net/*', '../net/*', './net/*'], message: 'pure core: no sockets (dns/net)' },
    { group: ['**/dns/files/**', '**/dns/files/*'], message: 'pure core: no files (dns/files)' },
    { group: ['**/actors/**', '**/broker/**', '**/cli/**'], message: 'pure core: may not import the shell' },
  ],
};
const noActors = {
  patterns: [{ group: ['**/actors/**', '**/cli/**'], message: 'nothing imports actors/ or cli/' }],
};
const sockets = ['node:dgram', 'node:net', 'node:tls', 'node:http', 'node:https', 'node:http2', 'node:worker_threads', 'node:child_process'];

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
    ignores: ['dns/net/**', 'dns/files/**', '**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [...sockets, 'node:fs', 'node:fs/promises', '@nats-io/*', 'pino'],
              message: 'dns/ is pure: I/O lives in dns/net (sockets) and dns/files (files)',
            },
            { group: ['./net/*', '../net/*', '**/net/**'], message: 'dns/ may not import dns/net' },
            { group: ['./files/*', '../files/*', '**/files/**'], message: 'dns/ may not import dns/files' },
            { group: ['**/actors/**', '**/broker/**', '**/cli/**', '**/machines/**', '**/protocol/**'], message: 'dns/ is the bottom layer' },
          ],
        },
      ],
    },
  },
  { files: ['broker/**/*.ts', 'dns/net/**/*.ts'], rules: { 'no-restricted-imports': ['error', noActors] } },
  {
    // dns/files: files on disk (node:fs), no sockets; dns/net may import it, pure dns/ may not.
    files: ['dns/files/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: [...sockets, '@nats-io/*', 'pino'], message: 'dns/files: files only, sockets live in dns/net' },
            { group: ['../net/*', '**/net/**'], message: 'dns/files may not import dns/net' },
            { group: ['**/actors/**', '**/broker/**', '**/cli/**', '**/machines/**', '**/protocol/**'], message: 'dns/files sits below the shell' },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'test/bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
