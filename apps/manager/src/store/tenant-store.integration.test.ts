import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent, HostFacts } from '@palisade/protocol';
import { testLocations } from '../testing/test-stores.ts';
import { StoreProvider } from './store-provider.ts';
import { PRIMARY_TENANT } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';

// One contract, run against every storage backend: SQLite and PostgreSQL must behave alike.
for (const make of testLocations()) {
  const loc = make();
  describe(`store contract: ${loc.name}`, () => {
    let now = new Date('2026-01-01T00:00:00.000Z');
    const clock = () => now;
    let provider: StoreProvider;
    let store: TenantStore;
    const host: HostFacts = { hostname: 'web-1', platform: 'linux/debian 12', ips: ['10.0.0.5'], agentVersion: '0.1.0' };

    before(async () => {
      provider = await StoreProvider.open(loc.location, clock);
      store = (await provider.tenant(PRIMARY_TENANT))!;
    });
    after(async () => {
      await provider.close();
      await loc.cleanup();
    });

    test('the primary tenant exists and new tenants get their own database', async () => {
      assert.deepEqual(
        (await provider.listTenants()).map((t) => t.id),
        ['primary'],
      );
      const acme = await provider.createTenant('acme', 'Acme');
      assert.equal(acme.id, 'acme');
      const acmeStore = (await provider.tenant('acme'))!;
      await acmeStore.policies.create({ name: 'Only in acme' });
      assert.equal(await store.policies.findByName('Only in acme'), undefined);
      await assert.rejects(provider.createTenant('acme', 'again'), { code: 'STORE_CONFLICT' });
      assert.equal(await provider.tenant('nope'), undefined);
    });

    test('api keys are shown once, stored hashed, revocable', async () => {
      const { key, secret } = await store.apiKeys.create('ci', 'operator');
      assert.match(secret, /^psk_primary\./);
      const stored = (await store.apiKeys.secretHash(key.id))!;
      assert.ok(!stored.hash.includes(secret.split('.')[2]!));
      assert.equal(await store.apiKeys.revoke(key.id), true);
      assert.equal(await store.apiKeys.revoke(key.id), false);
      assert.ok((await store.apiKeys.get(key.id))!.revokedAt);
    });

    test('policies form a tree without cycles', async () => {
      const root = await store.policies.create({ name: 'Base', settings: { heartbeatSeconds: 30 } });
      const web = await store.policies.create({ name: 'Web', parentId: root.id });
      const chain = await store.policies.chain(web.id);
      assert.deepEqual(
        chain.map((p) => p.name),
        ['Base', 'Web'],
      );
      await assert.rejects(store.policies.update(root.id, { parentId: web.id }), { code: 'STORE_POLICY_CYCLE' });
      await assert.rejects(store.policies.create({ name: 'Web' }), { code: 'STORE_CONFLICT' });
      await assert.rejects(store.policies.delete(root.id), { code: 'STORE_IN_USE' });
      assert.deepEqual((await store.policies.descendantsOf(root.id)).sort(), [root.id, web.id].sort());
    });

    test('computers authenticate with their own secret only, and go offline when silent', async () => {
      const { computer, secret } = await store.computers.activate(host, { policyId: null, group: 'g1', heartbeatSeconds: 10 });
      assert.equal((await store.computers.authenticate(computer.id, secret))?.id, computer.id);
      assert.equal(await store.computers.authenticate(computer.id, `${secret}x`), undefined);
      assert.equal((await store.computers.get(computer.id))!.status, 'online');
      now = new Date(now.getTime() + 31_000);
      assert.equal((await store.computers.get(computer.id))!.status, 'offline');
      await store.computers.recordHeartbeat(
        computer.id,
        { host, configHash: 'abc', modules: { firewall: { state: 'error', reason: 'nft failed' } }, spool: { pending: 0, dropped: 0 } },
        10,
      );
      const c = (await store.computers.get(computer.id))!;
      assert.equal(c.status, 'error');
      assert.equal(c.configHash, 'abc');
      await store.computers.deactivate(computer.id);
      assert.equal(await store.computers.authenticate(computer.id, secret), undefined);
    });

    test('heartbeats of many computers are written in one batch, each to its own row', async () => {
      const ids = [];
      for (let i = 0; i < 3; i++) {
        const cloud = i === 0 ? { cloud: { provider: 'aws', instanceId: 'i-0abc' } } : {};
        ids.push(
          (await store.computers.activate({ ...host, hostname: `b-${i}`, ...cloud }, { policyId: null, group: null, heartbeatSeconds: 10 }))
            .computer.id,
        );
      }
      await store.computers.recordHeartbeats(
        ids.map((id, i) => ({
          id,
          hb: { host: { ...host, hostname: `b-${i}-renamed` }, configHash: `h${i}`, modules: {}, spool: { pending: i, dropped: 0 } },
          heartbeatSeconds: 5 + i,
          at: now,
        })),
      );
      for (const [i, id] of ids.entries()) {
        const c = (await store.computers.get(id))!;
        assert.deepEqual([c.hostname, c.configHash, c.heartbeatSeconds, c.spool.pending], [`b-${i}-renamed`, `h${i}`, 5 + i, i]);
      }
      assert.equal((await store.computers.get(ids[0]!))!.cloud?.instanceId, 'i-0abc', 'a heartbeat without cloud data keeps it');
    });

    test('activation tokens: expiry, revocation, use count, wrong secret', async () => {
      const { token, value } = await store.tokens.create({ ttlSeconds: 60, maxUses: 1 });
      const secret = value.split('.')[2]!;
      assert.equal((await store.tokens.consume(token.id, 'wrong')).ok, false);
      assert.equal((await store.tokens.consume(token.id, secret)).ok, true);
      assert.deepEqual(await store.tokens.consume(token.id, secret), { ok: false, reason: 'TOKEN_USED_UP' });
      const t2 = await store.tokens.create({ ttlSeconds: 60 });
      await store.tokens.revoke(t2.token.id);
      assert.deepEqual(await store.tokens.consume(t2.token.id, t2.value.split('.')[2]!), { ok: false, reason: 'TOKEN_REVOKED' });
      const t3 = await store.tokens.create({ ttlSeconds: 5 });
      now = new Date(now.getTime() + 6000);
      assert.deepEqual(await store.tokens.consume(t3.token.id, t3.value.split('.')[2]!), { ok: false, reason: 'TOKEN_EXPIRED' });
      assert.deepEqual(await store.tokens.consume(randomUUID(), 'x'), { ok: false, reason: 'TOKEN_INVALID' });
    });

    test('event ingest is idempotent by id and pages newest first', async () => {
      const mk = (i: number): AgentEvent => ({
        id: randomUUID(),
        time: new Date(Date.UTC(2026, 0, 1, i % 3, 0, i)).toISOString(),
        module: i % 2 ? 'ips' : 'system',
        type: 'test',
        severity: 'info',
        message: `event ${i}`,
        ...(i === 0 ? { details: { n: 1 } } : {}),
      });
      const batch = Array.from({ length: 250 }, (_, i) => mk(i));
      assert.deepEqual(await store.events.ingest('c1', batch), { inserted: 250, duplicates: 0 });
      assert.deepEqual(await store.events.ingest('c1', batch.slice(0, 120)), { inserted: 0, duplicates: 120 });
      assert.equal(await store.events.count({ computerId: 'c1' }), 250);
      const seen = new Set<string>();
      let cursor: string | undefined;
      let prev = '\uffff';
      do {
        const page = await store.events.query({ computerId: 'c1', limit: 40, ...(cursor ? { cursor } : {}) });
        for (const e of page.events) {
          assert.ok(`${e.time}${e.id}` <= prev, 'newest first');
          prev = `${e.time}${e.id}`;
          seen.add(e.id);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      assert.equal(seen.size, 250);
      const ips = await store.events.query({ computerId: 'c1', module: 'ips', limit: 1000 });
      assert.equal(ips.events.length, 125);
      const counts = await store.events.countsPerHour('2026-01-01T00:00:00Z');
      assert.equal(
        counts.reduce((s, c) => s + c.count, 0),
        250,
      );
      assert.deepEqual(counts.map((c) => c.hour).slice(0, 1), ['2026-01-01T00:00:00Z']);
    });

    test('a queued command is delivered exactly once', async () => {
      const cmd = await store.commands.enqueue('c9', 'ping', { a: 1 });
      const [first, second] = await Promise.all([store.commands.takeQueued('c9'), store.commands.takeQueued('c9')]);
      assert.equal(first.length + second.length, 1);
      assert.equal(await store.commands.complete('c9', cmd.id, { status: 'succeeded', result: { pong: true } }), true);
      assert.equal((await store.commands.get(cmd.id))!.status, 'succeeded');
      assert.equal(await store.commands.complete('other', cmd.id, { status: 'failed' }), false);
    });

    test('jobs are claimed by one worker, retried with backoff, and taken over after a lease expires', async () => {
      const job = (await store.jobs.enqueue('demo', { x: 1 }, { dedupeKey: 'k1' }))!;
      assert.equal(await store.jobs.enqueue('demo', {}, { dedupeKey: 'k1' }), undefined, 'dedupe');
      const claims = await Promise.all([store.jobs.claim('a', 30), store.jobs.claim('b', 30), store.jobs.claim('c', 30)]);
      const winners = claims.filter((c) => c?.id === job.id);
      assert.equal(winners.length, 1);
      const owner = winners[0]!.leaseOwner!;
      assert.equal(await store.jobs.fail(job.id, owner, 'boom'), true);
      assert.equal((await store.jobs.get(job.id))!.status, 'queued');
      assert.equal(await store.jobs.claim('a', 30), undefined, 'backoff delays the retry');
      now = new Date(now.getTime() + 3000);
      const again = (await store.jobs.claim('a', 5))!;
      assert.equal(again.attempts, 2);
      now = new Date(now.getTime() + 6000);
      const stolen = (await store.jobs.claim('b', 5))!;
      assert.equal(stolen.id, job.id, 'an expired lease is taken over');
      assert.equal(await store.jobs.succeed(job.id, 'a', {}), false, 'the old owner cannot finish it');
      assert.equal(await store.jobs.succeed(job.id, 'b', { ok: 1 }), true);
    });

    test('a schedule tick is advanced by exactly one node', async () => {
      const t = await store.tasks.createScheduledTask({
        name: 'weekly',
        cron: '0 3 * * 0',
        timezone: 'UTC',
        jobKind: 'demo',
        jobArgs: {},
        enabled: true,
        nextRunAt: '2026-01-04T03:00:00.000Z',
      });
      const results = await Promise.all([
        store.tasks.advanceSchedule(t.id, t.nextRunAt, '2026-01-11T03:00:00.000Z', now.toISOString()),
        store.tasks.advanceSchedule(t.id, t.nextRunAt, '2026-01-11T03:00:00.000Z', now.toISOString()),
      ]);
      assert.deepEqual(results.sort(), [false, true]);
    });

    test('smart folders and event tasks round-trip', async () => {
      const f = await store.smartFolders.create('prod', { all: [{ field: 'tag:env', op: 'equals', value: 'prod' }] });
      assert.deepEqual((await store.smartFolders.get(f.id))!.query, f.query);
      await assert.rejects(store.smartFolders.create('prod', { any: [] }), { code: 'STORE_CONFLICT' });
      const task = await store.tasks.createEventTask({
        name: 'web',
        trigger: 'agent-activated',
        conditions: [{ field: 'hostname', regex: '^web' }],
        actions: [{ type: 'assign-group', group: 'web' }],
        enabled: true,
      });
      assert.deepEqual(
        (await store.tasks.listEventTasks('agent-activated')).map((x) => x.id),
        [task.id],
      );
    });

    test('audit entries are kept newest first', async () => {
      await store.audit.record('key:1', 'policy.update', 'policy:1', { field: 'x' });
      now = new Date(now.getTime() + 1000);
      await store.audit.record('key:1', 'policy.delete', 'policy:1');
      assert.deepEqual(
        (await store.audit.list({ target: 'policy:1' })).map((a) => a.action),
        ['policy.delete', 'policy.update'],
      );
    });
  });
}
