import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ParseError } from '../errors.ts';
import { tokenize, tokenizeLines, Tokenizer } from './tokenizer.ts';

const texts = (l: { tokens: { text: string }[] }): string[] => l.tokens.map((t) => t.text);

test('splits records, skips comments and blank lines, flags omitted owners', { timeout: 5000 }, () => {
  const zone = [
    '$ORIGIN example.',
    '; a comment line',
    '',
    '@ 3600 IN SOA ns1 host ( 1 ; serial',
    '   7200 3600',
    '   1209600 300 )',
    '\tIN NS ns1 ; trailing comment',
    'www A 192.0.2.1',
  ].join('\n');
  const lines = tokenizeLines(zone, 'z.zone');
  assert.deepEqual(lines.map(texts), [
    ['$ORIGIN', 'example.'],
    ['@', '3600', 'IN', 'SOA', 'ns1', 'host', '1', '7200', '3600', '1209600', '300'],
    ['IN', 'NS', 'ns1'],
    ['www', 'A', '192.0.2.1'],
  ]);
  assert.deepEqual(
    lines.map((l) => [l.line, l.indented]),
    [
      [1, false],
      [4, false],
      [7, true],
      [8, false],
    ],
  );
  const serial = lines[1]?.tokens[6];
  assert.deepEqual(serial, { text: '1', quoted: false, line: 4, col: 26 });
  assert.deepEqual(lines[1]?.tokens[7], { text: '7200', quoted: false, line: 5, col: 4 });
});

test('quoted strings keep ;, spaces, parentheses and escapes verbatim', { timeout: 5000 }, () => {
  const toks = tokenize('"a ; b" "q\\"x" ( "p(a)r" ) plain\\ word \\059x "" \\\\');
  assert.deepEqual(
    toks.map((t) => [t.text, t.quoted]),
    [
      ['a ; b', true],
      ['q\\"x', true],
      ['p(a)r', true],
      ['plain\\ word', false],
      ['\\059x', false],
      ['', true],
      ['\\\\', false],
    ],
  );
  assert.equal(toks[0]?.col, 1);
  assert.equal(toks[1]?.col, 9);
});

test('CRLF line ends and a final line without newline', { timeout: 5000 }, () => {
  const lines = tokenizeLines('a A 1.2.3.4\r\n b TXT x\r\nc');
  assert.deepEqual(lines.map(texts), [['a', 'A', '1.2.3.4'], ['b', 'TXT', 'x'], ['c']]);
  assert.equal(lines[1]?.indented, true);
});

test('errors carry file, line and column', { timeout: 5000 }, () => {
  const cases: [string, RegExp][] = [
    ['a TXT "open\nb A 1.2.3.4', /f:1:7: unterminated quoted string/],
    ['a TXT "open', /f:1:7: unterminated quoted string/],
    ['a SOA ( 1 2\n3', /f:1:7: unbalanced parenthesis/],
    ['a A 1 )', /f:1:7: unbalanced parenthesis/],
    ['a ( ( b )', /f:1:5: nested/],
    ['a b\\', /f:1:4: dangling backslash/],
    ['a b\\\nc', /f:1:4: dangling backslash/],
    ['a "x\\\ny"', /f:1:5: escaped line break/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => tokenizeLines(text, 'f'), (e: unknown) => e instanceof ParseError && re.test(e.message), text);
  }
});

test('iterates a large zone line by line', { timeout: 120_000 }, () => {
  const n = 200_000;
  const parts: string[] = ['$TTL 300'];
  for (let i = 0; i < n; i++) parts.push(`host${i} IN A 10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
  const text = parts.join('\n');
  let count = 0;
  let tokens = 0;
  for (const l of new Tokenizer(text)) {
    count++;
    tokens += l.tokens.length;
  }
  assert.equal(count, n + 1);
  assert.equal(tokens, n * 4 + 2);
});
