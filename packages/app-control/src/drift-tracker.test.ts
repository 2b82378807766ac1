import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DriftTracker } from './drift-tracker.ts';
import { diffInventory } from './inventory-diff.ts';
import { maintenanceActive, parseDuration } from './maintenance-window.ts';

const unknown = { verdict: 'unknown' as const, source: 'none' as const };

test('drift is one record per (path, sha256) with counts and times', () => {
  const t = new DriftTracker();
  const o = { path: '/tmp/x', sha256: 'a', decision: unknown, denied: false, access: 'exec' as const, process: { pid: 1 } };
  assert.equal(t.observe(o, 10).isNew, true);
  const again = t.observe({ ...o, denied: true, user: { uid: 1000 } }, 20);
  assert.equal(again.isNew, false);
  assert.deepEqual(
    {
      count: again.record.count,
      first: again.record.firstSeen,
      last: again.record.lastSeen,
      blocked: again.record.blocked,
      uid: again.record.user?.uid,
    },
    { count: 2, first: 10, last: 20, blocked: true, uid: 1000 },
  );
  assert.equal(t.observe({ ...o, path: '/tmp/y' }, 30).isNew, true);
  assert.equal(t.observe({ ...o, access: 'open' }, 40).isNew, true);
  assert.equal(t.resolve('a'), 3);
  assert.equal(t.size, 0);
});

test('drift records are bounded', () => {
  const t = new DriftTracker(2);
  for (const p of ['/a', '/b', '/c']) t.observe({ path: p, sha256: 'h', decision: unknown, denied: false, access: 'open' }, 0);
  assert.deepEqual(
    t.list().map((r) => r.path),
    ['/b', '/c'],
  );
});

test('inventory diff', () => {
  const d = diffInventory(
    new Map([
      ['/a', '1'],
      ['/b', '2'],
    ]),
    new Map([
      ['/b', '3'],
      ['/c', '4'],
    ]),
  );
  assert.deepEqual(d, {
    added: [{ path: '/c', sha256: '4' }],
    changed: [{ path: '/b', before: '2', sha256: '3' }],
    removed: [{ path: '/a', sha256: '1' }],
  });
});

test('maintenance window and durations', () => {
  assert.equal(maintenanceActive({ start: 10, end: 20 }, 15), true);
  assert.equal(maintenanceActive({ start: 10, end: 20 }, 20), false);
  assert.equal(maintenanceActive(undefined, 0), false);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration(90), 90_000);
  assert.equal(parseDuration('2d'), undefined);
  assert.equal(parseDuration('25h'), undefined);
  assert.equal(parseDuration('0'), undefined);
});
