import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePcre2, translatePcre2 } from './pcre2.ts';

test('PCRE2 syntax JavaScript lacks is translated', () => {
  assert.deepEqual(translatePcre2('(?i)abc'), { source: 'abc', flags: 'i' });
  assert.equal(translatePcre2('\\Aa\\z').source, '^a$');
  assert.equal(translatePcre2('(?P<x>a)').source, '(?<x>a)');
  assert.equal(translatePcre2('a++b').source, 'a+b');
  assert.equal(translatePcre2('[[:digit:]]').source, '[0-9]');
  assert.equal(translatePcre2('(*UTF)\\N{U+202E}').source, '\\u202e');
  assert.equal(translatePcre2('\\Qa.b\\E').source, 'a\\.b');
});

test('patterns that could backtrack exponentially run on RE2 and stay linear', () => {
  const p = compilePcre2('^(a+)+$');
  assert.ok(typeof p !== 'string');
  assert.equal(p.engine, 're2');
  const started = performance.now();
  assert.equal(p.re.test(`${'a'.repeat(5000)}!`), false);
  assert.ok(performance.now() - started < 1000, 'a pathological input must not stall matching');
});

test('quantified alternations also run on RE2', () => {
  const p = compilePcre2('^(a|aa)+$');
  assert.ok(typeof p !== 'string');
  assert.equal(p.engine, 're2');
  const started = performance.now();
  assert.equal(p.re.test(`${'a'.repeat(5000)}!`), false);
  assert.ok(performance.now() - started < 1000);
});

test('ordinary patterns run on the JS engine, look-arounds included', () => {
  const p = compilePcre2('(?i)foo(?=bar)');
  assert.ok(typeof p !== 'string');
  assert.equal(p.engine, 'js');
  assert.ok(p.re.test('FOOBAR'));
});
