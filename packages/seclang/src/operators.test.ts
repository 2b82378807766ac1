import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator, IpMatcher, PhraseMatcher } from './operators.ts';
import { RegexCache } from './regex.ts';

const ctx = { regexes: new RegexCache(), engine: 'js' as const, readDataFile: (p: string) => (p === 'w.data' ? 'Foo\n# c\nbar baz\n' : undefined) };
const op = (name: string, param: string) => createOperator(name, param, ctx);
const id = (s: string) => s;

test('@rx captures groups', () => {
  const r = op('rx', '(a)(b)?c').evaluate('xac', id, true);
  assert.equal(op('rx', '(a)(b)?c').evaluate('xac', id).captures, undefined);
  assert.equal(r.matched, true);
  assert.deepEqual(r.captures?.slice(0, 3), ['ac', 'a', undefined]);
});

test('@pm and @pmFromFile are case-insensitive phrase matches', () => {
  assert.equal(op('pm', 'foo bar').evaluate('xxBARyy', id).matched, true);
  assert.equal(op('pm', 'foo bar').evaluate('fobaxr', id).matched, false);
  assert.equal(op('pmFromFile', 'w.data').evaluate('a BAR BAZ', id).captures?.[0], 'bar baz');
  assert.throws(() => op('pmFromFile', 'missing.data'));
  const pm = new PhraseMatcher(['he', 'she', 'hers']);
  assert.equal(pm.find('ushers'), 'she');
});

test('numeric and string comparisons expand macros', () => {
  const expand = (s: string) => s.replace('%{tx.n}', '5');
  assert.equal(op('gt', '%{tx.n}').evaluate('6', expand).matched, true);
  assert.equal(op('lt', '3').evaluate('abc', id).matched, true);
  assert.equal(op('eq', '0').evaluate('', id).matched, true);
  assert.equal(op('within', '|GET|POST|').evaluate('POST', id).matched, true);
  assert.equal(op('within', '|GET|').evaluate('', id).matched, false);
  assert.equal(op('streq', 'a').evaluate('a', id).matched, true);
  assert.equal(op('beginsWith', 'ab').evaluate('abc', id).matched, true);
  assert.equal(op('endsWith', 'bc').evaluate('abc', id).matched, true);
  assert.equal(op('contains', 'b').evaluate('abc', id).matched, true);
});

test('@ipMatch handles IPv4 and IPv6 networks', () => {
  const m = new IpMatcher(['10.0.0.0/8', '192.168.1.1', '2001:db8::/32']);
  assert.equal(m.has('10.1.2.3'), true);
  assert.equal(m.has('192.168.1.2'), false);
  assert.equal(m.has('2001:db8:1::5'), true);
  assert.equal(m.has('2001:db9::1'), false);
});

test('validation operators match on invalid input', () => {
  assert.equal(op('validateByteRange', '32-126').evaluate('abc', id).matched, false);
  assert.equal(op('validateByteRange', '32-126').evaluate('a\x01', id).matched, true);
  assert.equal(op('validateUrlEncoding', '').evaluate('a%2x', id).matched, true);
  assert.equal(op('validateUrlEncoding', '').evaluate('a%20', id).matched, false);
  assert.equal(op('validateUtf8Encoding', '').evaluate('\xc3\xa9', id).matched, false);
  assert.equal(op('validateUtf8Encoding', '').evaluate('\xc0\xaf', id).matched, true);
  assert.equal(op('validateUtf8Encoding', '').evaluate('\xe2\x82', id).matched, true);
});

test('libinjection operators', () => {
  assert.equal(op('detectSQLi', '').evaluate("1' OR '1'='1", id).matched, true);
  assert.equal(op('detectSQLi', '').evaluate('hello world', id).matched, false);
  assert.equal(op('detectXSS', '').evaluate('<script>alert(1)</script>', id).matched, true);
  assert.equal(op('detectXSS', '').evaluate('just text', id).matched, false);
});
