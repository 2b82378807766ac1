import assert from 'node:assert/strict';
import { test } from 'node:test';
import { timeOrderedId } from './time-ordered-id.ts';

test('a version 7 UUID whose first 48 bits are the time, so ids sort by creation time', () => {
  const t = Date.UTC(2026, 10, 27, 7, 45, 0, 123);
  const id = timeOrderedId(t);
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16), t);
  const ids = Array.from({ length: 50 }, (_, i) => timeOrderedId(t + i * 7));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(Array.from({ length: 1000 }, () => timeOrderedId(t))).size, 1000, 'random bits keep ids of one millisecond apart');
});
