// The shared bench pieces: argument reading and the table layout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { argValue, numberArg, printTable, wantsJson } from './bench.ts';

test('bench args: values, numbers with defaults, --json', { timeout: 5000 }, () => {
  const argv = ['node', 'x.ts', '--records', '500', '--json', '--runs', 'many'];
  assert.equal(argValue('--records', argv), '500');
  assert.equal(argValue('--missing', argv), undefined);
  assert.equal(numberArg('--records', 7, argv), 500);
  assert.equal(numberArg('--missing', 7, argv), 7);
  assert.throws(() => numberArg('--runs', 2, argv), /--runs: expected a positive number, got "many"/);
  assert.equal(wantsJson(argv), true);
  assert.equal(wantsJson(['node', 'x.ts']), false);
});

test('printTable: first column left-aligned, the others right-aligned, one line per row', { timeout: 5000 }, () => {
  const lines: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk: string | Uint8Array): boolean => {
    lines.push(String(chunk));
    return true;
  };
  try {
    printTable([
      ['measure', 'ours', 'ratio'],
      ['load (ms)', '1234', '1.5'],
    ]);
  } finally {
    process.stdout.write = write;
  }
  assert.deepEqual(lines, ['measure    ours  ratio\n', 'load (ms)  1234    1.5\n']);
});
