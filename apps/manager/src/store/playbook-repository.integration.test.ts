import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PRIMARY_TENANT, StoreProvider } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';
import { type TestLocation, testLocations } from '../testing/test-stores.ts';

// The playbook and cloud repositories on both databases: what the engine relies on for
// counting, once-per-key, rate limits and exactly-once undo across manager nodes.
for (const make of testLocations()) {
  describe(`playbook and cloud repositories (${make().name})`, () => {
    let loc: TestLocation;
    let stores: StoreProvider;
    let store: TenantStore;
    const clock = { now: new Date('2026-01-01T00:00:00.000Z') };
    before(async () => {
      loc = make();
      stores = await StoreProvider.open(loc.location, () => clock.now);
      store = (await stores.tenant(PRIMARY_TENANT))!;
    });
    after(async () => {
      await stores.close();
      await loc.cleanup();
    });

    it('hits count once per event; windows, once-per-key and runs are answered from the database', async () => {
      const pb = await store.playbooks.create({
        name: 'p',
        trigger: { filter: { modules: ['ips'] }, threshold: 2 },
        actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/x', secret: 'a-secret-of-sixteen+' }],
      });
      assert.deepEqual(pb.trigger, { filter: { modules: ['ips'] }, threshold: 2, windowSeconds: 60, groupBy: 'attacker' });
      assert.deepEqual(pb.safeguards, { allowList: [], maxRunsPerHour: 20 });
      assert.ok(!JSON.stringify(await store.playbooks.list()).includes('a-secret-of-sixteen+'));
      assert.equal((await store.playbooks.secrets(pb.id))[0]?.secret, 'a-secret-of-sixteen+');
      // An update that leaves the secret out keeps it.
      await store.playbooks.update(pb.id, { actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/y' }] });
      assert.equal((await store.playbooks.secrets(pb.id))[0]?.secret, 'a-secret-of-sixteen+');

      assert.equal(await store.playbooks.recordHit(pb.id, 'e1', 'ip:1.2.3.4', '2026-01-01T00:00:00.000Z'), true);
      assert.equal(await store.playbooks.recordHit(pb.id, 'e1', 'ip:1.2.3.4', '2026-01-01T00:00:01.000Z'), false);
      await store.playbooks.recordHit(pb.id, 'e2', 'ip:1.2.3.4', '2026-01-01T00:00:30.000Z');
      await store.playbooks.recordHit(pb.id, 'e3', 'ip:9.9.9.9', '2026-01-01T00:00:30.000Z');
      assert.deepEqual(await store.playbooks.hitsSince(pb.id, 'ip:1.2.3.4', '2026-01-01T00:00:00.000Z'), ['e1', 'e2']);
      assert.deepEqual(await store.playbooks.hitsSince(pb.id, 'ip:1.2.3.4', '2026-01-01T00:00:10.000Z'), ['e2']);

      const base = { playbookId: pb.id, computerId: null, eventIds: ['e1', 'e2'], error: null, inputs: {}, result: {} };
      const a = await store.playbooks.recordAction({
        ...base,
        runId: 'r1',
        triggerKey: 'ip:1.2.3.4',
        actionIndex: 0,
        actionType: 'aws-waf-block-ip',
        status: 'succeeded',
        undoable: true,
        expiresAt: '2026-01-01T01:00:00.000Z',
      });
      await store.playbooks.recordAction({
        ...base,
        runId: 'r1',
        triggerKey: 'ip:1.2.3.4',
        actionIndex: 1,
        actionType: 'webhook',
        status: 'succeeded',
        undoable: false,
        expiresAt: null,
      });
      await store.playbooks.recordAction({
        ...base,
        runId: 'r2',
        triggerKey: 'ip:5.5.5.5',
        actionIndex: 0,
        actionType: 'aws-waf-block-ip',
        status: 'skipped',
        undoable: false,
        expiresAt: null,
      });
      assert.equal(await store.playbooks.runsSince(pb.id, '2025-12-31T23:00:00.000Z'), 1, 'one run that acted, skipped ones do not count');
      assert.equal(await store.playbooks.firedSince(pb.id, 'ip:1.2.3.4', '2025-12-31T23:59:00.000Z'), true);
      assert.equal(await store.playbooks.firedSince(pb.id, 'ip:9.9.9.9', '2025-12-31T23:59:00.000Z'), false);
      assert.equal(await store.playbooks.activeFor(pb.id, 'ip:1.2.3.4'), true);

      assert.deepEqual(await store.playbooks.dueExpiries('2026-01-01T00:59:59.000Z'), []);
      assert.deepEqual(
        (await store.playbooks.dueExpiries('2026-01-01T01:00:00.000Z')).map((r) => r.id),
        [a.id],
      );
      // Two nodes sweeping: one claim wins.
      const claims = await Promise.all([store.playbooks.claimUndo(a.id, ['succeeded']), store.playbooks.claimUndo(a.id, ['succeeded'])]);
      assert.deepEqual(claims.sort(), [false, true]);
      const done = await store.playbooks.finishUndo(a.id, 'expired', { removed: '1.2.3.4/32' });
      assert.equal(done.status, 'expired');
      assert.equal(await store.playbooks.activeFor(pb.id, 'ip:1.2.3.4'), false);
      assert.equal((await store.playbooks.listActions({ playbookId: pb.id })).length, 3);

      await store.playbooks.delete(pb.id);
      assert.deepEqual(await store.playbooks.hitsSince(pb.id, 'ip:1.2.3.4', '2000-01-01T00:00:00.000Z'), []);
      assert.equal((await store.playbooks.listActions({ playbookId: pb.id })).length, 3, 'the record of what it did stays');
    });

    it('cloud instances and groups upsert; a discovered computer has no usable credentials until adopted', async () => {
      const acct = await store.cloud.createAccount({
        name: 'a',
        authType: 'instance-role',
        regions: ['eu-west-1'],
        encryptedSecrets: '',
        syncIntervalSeconds: 300,
        enabled: true,
      });
      assert.equal(acct.hasSecret, false);
      const id = await store.cloud.createDiscoveredComputer(store.tenantId, {
        hostname: 'h',
        platform: 'aws/ec2',
        ips: ['10.0.0.1'],
        cloud: { provider: 'aws', instanceId: 'i-1', region: 'eu-west-1' },
        tags: { role: 'web' },
      });
      await store.cloud.saveInstance({
        instanceId: 'i-1',
        accountId: acct.id,
        region: 'eu-west-1',
        computerId: id,
        state: 'running',
        asgName: null,
        data: {},
      });
      await store.cloud.saveInstance({
        instanceId: 'i-1',
        accountId: acct.id,
        region: 'eu-west-1',
        computerId: id,
        state: 'stopped',
        asgName: 'g',
        data: { x: 1 },
      });
      const [inst] = await store.cloud.instances({ accountId: acct.id });
      assert.equal(inst!.state, 'stopped');
      assert.equal(inst!.asgName, 'g');
      const c = await store.computers.require(id);
      assert.equal(c.status, 'offline');
      assert.equal(c.agentVersion, '');
      const secret = await store.cloud.adoptComputer(
        id,
        { hostname: 'ip-10-0-0-1', platform: 'linux', ips: ['10.0.0.1'], agentVersion: '1.0.0', tags: { env: 'prod' } },
        { policyId: null, group: null, heartbeatSeconds: 30 },
      );
      assert.ok(await store.computers.authenticate(id, secret));
      assert.deepEqual((await store.computers.require(id)).tags, { role: 'web', env: 'prod' });
      await store.cloud.saveAsg(acct.id, 'eu-west-1', 'g', { desiredCapacity: 2 });
      await store.cloud.saveAsg(acct.id, 'eu-west-1', 'g', { desiredCapacity: 3 });
      assert.deepEqual(
        (await store.cloud.asgs({ accountId: acct.id })).map((g) => g.data.desiredCapacity),
        [3],
      );
      await store.cloud.deleteAccount(acct.id);
      assert.deepEqual(await store.cloud.asgs({ accountId: acct.id }), []);
    });
  });
}
