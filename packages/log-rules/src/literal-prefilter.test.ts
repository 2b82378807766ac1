import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requiredLiteral } from './literal-prefilter.ts';

test('the required literal is the longest top-level run that every match contains', () => {
  assert.equal(requiredLiteral('[^%]*%FTD-[0-7]-[^:\\s]+', false)?.literal, '%FTD-');
  assert.equal(requiredLiteral('^Failed password for (\\S+) from', true)?.literal, 'failed password for ');
  assert.equal(requiredLiteral('(x)yz\\.com', false)?.literal, 'yz.com');
  assert.equal(requiredLiteral('foo+bar', false)?.literal, 'foo');
});

test('no prefilter where a literal could be skipped', () => {
  assert.equal(requiredLiteral('abc|def', false), undefined);
  assert.equal(requiredLiteral('abcd?e', false)?.literal, 'abc');
  assert.equal(requiredLiteral('\\u202e', false), undefined);
  assert.equal(requiredLiteral('\\x41\\x42\\x43', false), undefined);
  assert.equal(requiredLiteral('a(bcd)*e', false), undefined);
});
