import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileOsMatch } from './os-match.ts';
import { jsRegexStartChars, osMatchStartChars, osRegexStartChars, startIndex, type StartChars } from './start-chars.ts';

const accepts = (t: StartChars | undefined, s: string): boolean => t === undefined || t[startIndex(s)] === 1;

test('os_regex: anchored alternatives give their first characters, case-insensitively', () => {
  const t = osRegexStartChars('^Failed password|^(\\d+) x');
  assert.ok(t);
  for (const s of ['Failed', 'failed', 'FAILED', '7 x']) assert.ok(accepts(t, s), s);
  for (const s of ['x', ' Failed', '', '-1']) assert.ok(!accepts(t, s), s);
  // Non-ASCII first characters are left to the matcher.
  assert.ok(accepts(t, 'é'));
  assert.ok(accepts(osRegexStartChars('^\\p'), '['));
  assert.ok(accepts(osRegexStartChars('^\\w+'), '@'));
  assert.ok(!accepts(osRegexStartChars('^\\s'), '\t'));
});

test('no table where a match may start with anything', () => {
  assert.equal(osRegexStartChars('Failed'), undefined);
  assert.equal(osRegexStartChars('^Failed|password'), undefined);
  assert.equal(osRegexStartChars('^\\d*x'), undefined);
  assert.equal(osRegexStartChars('^\\S+'), undefined);
  assert.equal(osRegexStartChars('^$'), undefined);
  assert.equal(osMatchStartChars(compileOsMatch('^a|b').alternatives), undefined);
  assert.equal(osMatchStartChars(compileOsMatch('^').alternatives), undefined);
  assert.equal(jsRegexStartChars('^a|b', ''), undefined);
  assert.equal(jsRegexStartChars('^a?b', ''), undefined);
  assert.equal(jsRegexStartChars('^a', 'm'), undefined);
});

test('os_match and pcre2 tables', () => {
  const m = osMatchStartChars(compileOsMatch('^Installed|^updated').alternatives);
  assert.ok(accepts(m, 'installed') && accepts(m, 'Updated') && !accepts(m, 'Erased'));
  const cs = jsRegexStartChars('^Abc', '');
  assert.ok(accepts(cs, 'Abc') && !accepts(cs, 'abc'));
  const ci = jsRegexStartChars('^Abc', 'i');
  assert.ok(accepts(ci, 'abc'));
});
