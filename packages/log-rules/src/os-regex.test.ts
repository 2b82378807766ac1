import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Expression } from './expression.ts';
import { compileOsRegex, execOsRegex, type OsRegex } from './os-regex.ts';

const re = (p: string): OsRegex => {
  const r = compileOsRegex(p);
  if (typeof r === 'string') throw new Error(r);
  return r;
};

test('classes follow os_regex: \\w includes - @ _, \\s is a space, \\p punctuation, \\. anything', () => {
  assert.deepEqual(execOsRegex(re('^(\\w+)'), 'a-b@c_d.e')?.captures, ['a-b@c_d']);
  assert.equal(execOsRegex(re('a\\sb'), 'a\tb'), null);
  assert.deepEqual(execOsRegex(re('x(\\p)'), 'x;')?.captures, [';']);
  assert.deepEqual(execOsRegex(re('^(\\.+)$'), 'any thing')?.captures, ['any thing']);
});

test('plain characters are literal, matching is case-insensitive', () => {
  assert.ok(execOsRegex(re('a.b[c]'), 'xA.B[C]'));
  assert.equal(execOsRegex(re('a.b'), 'axb'), null);
  assert.ok(execOsRegex(re('a+'), 'A+'), '+ after a plain character is literal');
});

test('quantified classes stop at the next element (lazy) except the last one', () => {
  assert.deepEqual(execOsRegex(re('^(\\S+)-(\\S+)'), 'a-b-c')?.captures, ['a', 'b-c']);
  assert.deepEqual(execOsRegex(re('user (\\S+)'), 'user root from x')?.captures, ['root']);
});

test('alternatives keep their own anchors and captures', () => {
  const r = re('^foo (\\d+)|bar (\\w+)$');
  assert.deepEqual(execOsRegex(r, 'foo 12')?.captures, ['12']);
  assert.deepEqual(execOsRegex(r, 'x bar baz')?.captures, ['baz']);
  assert.equal(execOsRegex(r, 'x foo 12'), null);
});

test('escapes \\( \\) \\$ \\| \\< are literals and the end offset is reported', () => {
  const m = execOsRegex(re('audit\\((\\d+)\\):'), 'msg=audit(123): rest');
  assert.deepEqual(m?.captures, ['123']);
  assert.equal(m?.end, 'msg=audit(123):'.length);
  assert.ok(execOsRegex(re('a\\|b\\$'), 'a|b$'));
  assert.ok(execOsRegex(re('\\<tag>'), '<tag>'));
});

test('os_match: substring, case-insensitive, | ^ $ and a leading ! negation', () => {
  const m = Expression.compile('osmatch', '^start|END$|mid') as Expression;
  assert.ok(m.test('Start here'));
  assert.ok(m.test('the end'));
  assert.ok(m.test('a MID b'));
  assert.ok(!m.test('nothing'));
  const neg = Expression.compile('osmatch', '!denied') as Expression;
  assert.ok(neg.test('allowed'));
  assert.ok(!neg.test('access denied'));
  const both = Expression.compile('osmatch', '!denied', true) as Expression;
  assert.ok(both.test('access denied'));
});

test('a bad pattern is reported, not thrown', () => {
  assert.equal(typeof compileOsRegex('(unclosed'), 'string');
  assert.equal(typeof compileOsRegex('trailing\\'), 'string');
});
