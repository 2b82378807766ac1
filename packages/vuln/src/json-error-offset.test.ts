import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonErrorOffset } from './json-error-offset.ts';

test('valid JSON has no error offset', () => {
  for (const t of ['{}', '[]', ' {"a": [1, -2.5e3, "x\\u00e9\\n", true, false, null]} ', '"s"', '0']) {
    assert.equal(jsonErrorOffset(t), undefined, t);
  }
});

test('the offset points at the first offending character', () => {
  assert.equal(jsonErrorOffset('{"a": oops}'), 6);
  assert.equal(jsonErrorOffset('{"a": 1,}'), 8);
  assert.equal(jsonErrorOffset('[1 2]'), 3);
  assert.equal(jsonErrorOffset('{"a": 1} x'), 9);
  assert.equal(jsonErrorOffset('{"a": "unterminated'), 19);
});

test('agrees with JSON.parse on what is valid', () => {
  const samples = ['{"a":1}', '{a:1}', '[1,]', '01', '"\\x"', '{"k":"v"}', '[[[]]]', 'tru', '-', '1.', '{"a":"b"}}'];
  for (const s of samples) {
    let ok = true;
    try {
      JSON.parse(s);
    } catch {
      ok = false;
    }
    assert.equal(jsonErrorOffset(s) === undefined, ok, s);
  }
});
