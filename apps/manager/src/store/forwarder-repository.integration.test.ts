import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent, HostFacts } from '@palisade/protocol';
import { testLocations } from '../testing/test-stores.ts';
import { PRIMARY_TENANT, StoreProvider } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';

// The forwarding outbox contract, on every storage backend.
for (const make of testLocations()) {
  const loc = make();
  describe(`forwarder store: ${loc.name}`, () => {
    let now = new Date('2026-02-01T00:00:00.000Z');
    let provider: StoreProvider;
    let store: TenantStore;
    let webId: string;
    let dbId: string;
    const host = (hostname: string): HostFacts => ({ hostname, platform: 'linux/debian 12', ips: ['10.0.0.5'], agentVersion: '0.1.0' });
    const ev = (module: AgentEvent['module'], severity: AgentEvent['severity'], n: number): AgentEvent => ({
      id: randomUUID(),
      time: new Date(now.getTime() + n).toISOString(),
      module,
      type: `${module}.test`,
      severity,
      message: `event ${n}`,
    });

    before(async () => {
      provider = await StoreProvider.open(loc.location, () => now);
      store = (await provider.tenant(PRIMARY_TENANT))!;
      webId = (await store.computers.activate(host('web-1'), { policyId: null, group: 'web', heartbeatSeconds: 30 })).computer.id;
      dbId = (await store.computers.activate(host('db-1'), { policyId: null, group: 'db', heartbeatSeconds: 30 })).computer.id;
    });
    after(async () => {
      await provider.close();
      await loc.cleanup();
    });

    test('secrets are stored but never listed; names are unique', async () => {
      const f = await store.forwarders.create({
        name: 'hook',
        type: 'webhook',
        settings: { url: 'http://127.0.0.1:9/x' },
        secrets: { secret: 'super-secret-value-123' },
      });
      assert.deepEqual(f.secretsSet, ['secret']);
      assert.ok(!JSON.stringify(await store.forwarders.list()).includes('super-secret-value-123'));
      assert.deepEqual(await store.forwarders.secretsOf(f.id), { secret: 'super-secret-value-123' });
      await assert.rejects(store.forwarders.create({ name: 'hook', type: 'webhook', settings: { url: 'http://x' } }), {
        code: 'STORE_CONFLICT',
      });
      assert.equal(await store.forwarders.delete(f.id), true);
    });

    test('ingest queues new events for matching forwarders in order; re-sent batches are not queued twice', async () => {
      const all = await store.forwarders.create({
        name: 'all',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'cef' },
      });
      const ipsHigh = await store.forwarders.create({
        name: 'ips-high',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'cef' },
        filter: { modules: ['ips'], minSeverity: 'high' },
      });
      const dbGroup = await store.forwarders.create({
        name: 'db-group',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'cef' },
        filter: { groups: ['db'] },
      });
      const paused = await store.forwarders.create({
        name: 'paused',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'cef' },
        enabled: false,
      });
      const batch = [ev('ips', 'critical', 1), ev('ips', 'low', 2), ev('firewall', 'high', 3), ev('ips', 'high', 4)];
      assert.deepEqual(await store.events.ingest(webId, batch), { inserted: 4, duplicates: 0 });
      assert.deepEqual(await store.events.ingest(webId, batch), { inserted: 0, duplicates: 4 });
      const dbEvent = ev('system', 'info', 5);
      await store.events.ingest(dbId, [dbEvent]);

      const ids = async (id: string) => (await store.forwarders.peek(id, 100)).map((e) => e.event.id);
      assert.deepEqual(
        await ids(all.id),
        [...batch, dbEvent].map((e) => e.id),
      );
      assert.deepEqual(await ids(ipsHigh.id), [batch[0]!.id, batch[3]!.id]);
      assert.deepEqual(await ids(dbGroup.id), [dbEvent.id]);
      assert.deepEqual(await ids(paused.id), []);
      const snap = (await store.forwarders.peek(dbGroup.id, 1))[0]!.event;
      assert.deepEqual([snap.hostname, snap.group, snap.tenantId, snap.computerId], ['db-1', 'db', 'primary', dbId]);
      assert.equal((await store.forwarders.get(all.id))!.delivery.pending, 5);

      // Delivered entries go; a failure keeps them and holds the forwarder back until retryAt.
      const head = await store.forwarders.peek(all.id, 2);
      await store.forwarders.delivered(
        all.id,
        head.map((h) => h.id),
      );
      assert.deepEqual(await ids(all.id), [batch[2]!.id, batch[3]!.id, dbEvent.id]);
      assert.equal(await store.forwarders.failed(all.id, 'ECONNREFUSED', new Date(now.getTime() + 5000)), 1);
      assert.equal(await store.forwarders.failed(all.id, 'ECONNREFUSED', new Date(now.getTime() + 10000)), 2);
      assert.ok(!(await store.forwarders.due()).includes(all.id));
      now = new Date(now.getTime() + 10_000);
      assert.ok((await store.forwarders.due()).includes(all.id));
      const state = (await store.forwarders.get(all.id))!.delivery;
      assert.deepEqual([state.failures, state.lastError, state.pending], [2, 'ECONNREFUSED', 3]);
      await store.forwarders.delivered(all.id, []);
      assert.equal((await store.forwarders.get(all.id))!.delivery.failures, 0);

      // Deleting a forwarder drops what it had not delivered.
      for (const f of [all, ipsHigh, dbGroup, paused]) assert.equal(await store.forwarders.delete(f.id), true);
      assert.equal(await store.forwarders.delete(all.id), false);
    });

    test('events and their outbox entries commit together: a failing enqueue stores neither', async () => {
      const f = await store.forwarders.create({
        name: 'tx',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'json' },
      });
      const before = await store.events.count();
      // A second listener that fails after the outbox rows were written in the same transaction.
      let fail = true;
      store.events.onIngest(async () => {
        if (fail) throw new Error('boom');
      });
      const e = ev('ips', 'high', 9);
      await assert.rejects(store.events.ingest(webId, [e]), /boom/);
      assert.equal(await store.events.count(), before);
      assert.deepEqual(await store.forwarders.peek(f.id, 10), []);
      fail = false;
      await store.events.ingest(webId, [e]);
      assert.deepEqual(
        (await store.forwarders.peek(f.id, 10)).map((x) => x.event.id),
        [e.id],
      );
      await store.forwarders.delete(f.id);
    });

    test("only one node holds a forwarder's delivery lease until it expires or is released", async () => {
      const f = await store.forwarders.create({
        name: 'lease',
        type: 'syslog',
        settings: { protocol: 'udp', address: '127.0.0.1:514', format: 'json' },
      });
      assert.equal(await store.forwarders.claim(f.id, 'node-a', 60), true);
      assert.equal(await store.forwarders.claim(f.id, 'node-b', 60), false);
      assert.equal(await store.forwarders.claim(f.id, 'node-a', 60), true, 'the holder may renew');
      now = new Date(now.getTime() + 61_000);
      assert.equal(await store.forwarders.claim(f.id, 'node-b', 60), true, 'an expired lease is taken over');
      await store.forwarders.release(f.id, 'node-a');
      assert.equal(await store.forwarders.claim(f.id, 'node-a', 60), false, "a stale owner cannot release another node's lease");
      await store.forwarders.release(f.id, 'node-b');
      assert.equal(await store.forwarders.claim(f.id, 'node-a', 60), true);
      await store.forwarders.delete(f.id);
    });
  });
}
