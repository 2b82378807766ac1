import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, sleep } from './backoff.ts';

test('backoff doubles from 250 ms and is capped at 5 s, with ±20 % jitter', () => {
  const mid = () => 0.5;
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10, 50].map((a) => backoffDelay(a, 250, 5_000, mid)), [250, 500, 1000, 2000, 4000, 5000, 5000, 5000]);
  assert.equal(backoffDelay(10, 250, 5_000, () => 0), 4_000);
  assert.equal(backoffDelay(10, 250, 5_000, () => 0.999999), 6_000);
});

test('sleep ends early, without throwing, when aborted', async () => {
  const ac = new AbortController();
  const began = Date.now();
  setTimeout(() => ac.abort(), 20);
  await sleep(10_000, ac.signal);
  assert.ok(Date.now() - began < 2_000);
  await sleep(10_000, ac.signal); // already aborted: returns at once
});
