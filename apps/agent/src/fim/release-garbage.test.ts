import assert from 'node:assert/strict';
import { test } from 'node:test';
import { releaseGarbage } from './release-garbage.ts';

test('releaseGarbage collects dead objects without --expose-gc', {
  skip: (globalThis as { gc?: unknown }).gc ? 'gc already exposed' : false,
}, async () => {
  let dead: object | undefined = { payload: new Array(1000).fill(0) };
  const ref = new WeakRef(dead);
  dead = undefined;
  // Nothing else allocates here: without a collection the object stays reachable through the WeakRef.
  await new Promise((r) => setImmediate(r));
  releaseGarbage();
  assert.equal(ref.deref(), undefined);
});
