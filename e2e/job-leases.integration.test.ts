import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { StoreProvider } from '@palisade/manager';
import { testLocations } from '../apps/manager/src/testing/test-stores.ts';
import { freePort, startManagerProcess, waitFor } from './support/real-processes.ts';

/**
 * Two manager processes share one PostgreSQL: every job runs exactly once, and every schedule
 * tick becomes exactly one job, however the two nodes race.
 */
test('two manager nodes on one PostgreSQL never run a job twice', { timeout: 180_000 }, async () => {
  const loc = testLocations().find((l) => l().name === 'postgres')!();
  const dir = mkdtempSync(join(tmpdir(), 'palisade-leases-'));
  const a = await startManagerProcess({ dataDir: join(dir, 'a'), port: await freePort(), db: loc.dbArg, name: 'node-a' });
  const b = await startManagerProcess({
    dataDir: join(dir, 'b'),
    port: await freePort(),
    db: loc.dbArg,
    name: 'node-b',
    adminKey: a.adminKey,
  });
  // The test reads the shared database directly, as a third party would.
  const stores = await StoreProvider.open(loc.location);
  try {
    const store = (await stores.tenant('primary'))!;
    const JOBS = 120;
    for (let i = 0; i < JOBS; i++) await store.jobs.enqueue('noop', { i });
    const sched = await a.client.request<{ id: string }>('POST', '/api/v1/scheduled-tasks', {
      body: { name: 'every second', cron: '* * * * * *', jobKind: 'noop' },
    });

    const runs = await waitFor(
      'every job run',
      async () => {
        const done = await store.jobs.list({ status: 'succeeded', limit: 1000 });
        return done.filter((j) => !j.dedupeKey).length >= JOBS ? done : undefined;
      },
      90_000,
      500,
    );
    await new Promise((r) => setTimeout(r, 5000)); // a few more schedule ticks on both nodes
    await b.client.request('DELETE', `/api/v1/scheduled-tasks/${sched.id}`);

    const marks = await store.audit.list({ action: 'job.noop', limit: 10_000 });
    const perJob = new Map<string, number>();
    for (const m of marks) perJob.set(m.target, (perJob.get(m.target) ?? 0) + 1);
    assert.ok(
      [...perJob.values()].every((n) => n === 1),
      'a job ran twice',
    );
    const all = await store.jobs.list({ limit: 10_000 });
    assert.equal(all.filter((j) => j.status === 'succeeded').length, perJob.size, 'each succeeded job ran once');
    const owners = new Set(all.map((j) => j.leaseOwner?.split(':').slice(0, 2).join(':')));
    assert.equal(owners.size, 2, `both nodes took jobs (owners: ${[...owners].join(', ')})`);

    const ticks = all.filter((j) => j.dedupeKey?.startsWith(`schedule:${sched.id}:`));
    assert.ok(ticks.length >= 3, `only ${ticks.length} schedule ticks ran`);
    assert.equal(new Set(ticks.map((j) => j.dedupeKey)).size, ticks.length, 'one job per tick');
    assert.ok(runs.length >= JOBS);
  } finally {
    await stores.close();
    await Promise.all([a.proc.stop(), b.proc.stop()]);
    await loc.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});
