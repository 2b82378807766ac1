import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BUILTIN_MASKS, maskIncludes, maskNeedsHash, parseMaskExpression } from './attribute-mask.ts';

function parse(expr: string) {
  const r = parseMaskExpression(expr);
  assert.ok('mask' in r, `expected ${expr} to parse`);
  return r.mask;
}

test('built-in masks differ where Tripwire says they should', () => {
  const ro = BUILTIN_MASKS.get('ReadOnly')!;
  const dyn = BUILTIN_MASKS.get('Dynamic')!;
  const grow = BUILTIN_MASKS.get('Growing')!;
  const none = BUILTIN_MASKS.get('IgnoreAll')!;
  assert.ok(maskIncludes(ro, 'sha256') && maskIncludes(ro, 'mtime') && !maskIncludes(ro, 'ctime'));
  assert.ok(maskIncludes(dyn, 'mode') && !maskIncludes(dyn, 'sha256') && !maskIncludes(dyn, 'size'));
  assert.ok(grow.growingSize && maskIncludes(grow, 'size') && !maskIncludes(grow, 'sha256'));
  assert.ok(!maskIncludes(none, 'mode') && !maskNeedsHash(none));
  assert.ok(maskIncludes(BUILTIN_MASKS.get('IgnoreNone')!, 'ctime'));
});

test('expressions add and remove attributes and masks', () => {
  const m = parse('ReadOnly -mtime +ctime');
  assert.ok(!maskIncludes(m, 'mtime') && maskIncludes(m, 'ctime') && maskIncludes(m, 'sha256'));
  const list = parse('mode+uid+gid');
  assert.deepEqual([...list.attrs].sort(), ['gid', 'mode', 'uid']);
  const all = parse('IgnoreNone -ctime -sha512');
  assert.ok(all.all && !maskIncludes(all, 'ctime') && maskIncludes(all, 'shell'));
  const custom = new Map([['Mine', parse('mode')]]);
  const r = parseMaskExpression('Mine +growing', custom);
  assert.ok('mask' in r && r.mask.growingSize && maskIncludes(r.mask, 'size') && maskIncludes(r.mask, 'mode'));
});

test('unknown names and stray characters are errors with offsets', () => {
  const r = parseMaskExpression('ReadOnly -bogus');
  assert.ok('error' in r && r.error.offset === 10);
  const s = parseMaskExpression('ReadOnly * mode');
  assert.ok('error' in s && s.error.offset === 9);
});
