import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RegexCache, translatePcre } from './regex.ts';

const re = (p: string) => {
  const t = translatePcre(p);
  return new RegExp(t.source, t.flags);
};

test('leading (?i) becomes a flag and dot matches newlines', () => {
  const t = translatePcre('(?i)a.b');
  assert.equal(t.flags, 'ism');
  assert.ok(re('(?i)a.b').test('A\nB'));
});

test('scoped (?i:…) folds case only inside the group', () => {
  const r = re('x(?i:ab[c-d])y');
  assert.ok(r.test('xABCy'));
  assert.ok(r.test('xabdy'));
  assert.ok(!r.test('XABCy'));
  assert.ok(!r.test('xABCY'));
});

test('PCRE escapes: \\x{HH}, \\z, \\A, POSIX classes, possessive quantifiers, {,n}', () => {
  assert.ok(re('\\x{41}\\x{e2}').test('A\xe2'));
  assert.ok(re('a\\z').test('xa'));
  assert.ok(!re('a\\z').test('a\n'));
  assert.ok(re('\\Aab').test('abc'));
  assert.ok(!re('\\Aab').test('cab'));
  assert.ok(re('^[[:alpha:]]+$').test('abcXYZ'));
  assert.ok(re('a++b').test('aaab'));
  assert.ok(re('^a{,2}$').test('aa'));
});

test('\\s is ASCII whitespace only, as in PCRE without UTF', () => {
  assert.ok(re('a\\sb').test('a\tb'));
  assert.ok(!re('a\\sb').test('a\xa0b'));
  assert.ok(!re('a[\\s]b').test('a\xa0b'));
});

test('unsupported constructs are reported, not silently mistranslated', () => {
  assert.throws(() => translatePcre('(?x)a b'));
  assert.throws(() => translatePcre('\\p{L}'));
  assert.throws(() => translatePcre('(a'));
});

test('the cache compiles a pattern once per engine, and re2 runs the same pattern', () => {
  const c = new RegexCache();
  assert.equal(c.compile('(?i)abc', 'js'), c.compile('(?i)abc', 'js'));
  const r2 = c.compile('(?i)ab\\x{63}', 're2');
  assert.ok(r2.test('xABC'));
  assert.deepEqual(r2.exec('xaBcz')?.[0], 'aBc');
  assert.throws(() => c.compile('(a)\\1', 're2'));
});

test('auto sends backtracking-prone patterns to re2 for long inputs and agrees with V8', async () => {
  const { prefersLinearEngine } = await import('./regex.ts');
  // The shape of CRS 941160: adjacent unbounded quantifiers over overlapping classes.
  const risky = String.raw`(?i)<[^0-9<>A-Z_a-z]*(?:[^\s"'<>]*:)?[^0-9<>A-Z_a-z]*[^0-9A-Z_a-z]*?(?:script|style)`;
  assert.equal(prefersLinearEngine(risky), true);
  assert.equal(prefersLinearEngine('(?i)^(?:get|post)$'), false);
  assert.equal(prefersLinearEngine('(a+)+b'), true);
  const c = new RegexCache();
  const auto = c.compile(risky, 'auto');
  const js = c.compile(risky, 'js');
  for (const s of ['<script>', '< :: style', 'x<scr', '<[[[[[[script']) assert.equal(auto.test(s), js.test(s), s);
  const t0 = performance.now();
  assert.equal(auto.test(`<${'['.repeat(5000)}`), false);
  assert.ok(performance.now() - t0 < 2000, 'a pathological input must not backtrack');
});
