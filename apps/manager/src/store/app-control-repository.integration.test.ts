import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AgentEvent, HostFacts } from '@palisade/protocol';
import { appControlOf, syncDrift } from '../app-control/app-control-service.ts';
import { testLocations } from '../testing/test-stores.ts';
import { localRulesetId } from './app-control-repository.ts';
import { PRIMARY_TENANT, StoreProvider } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

// Application control's rows, on every storage backend.
for (const make of testLocations()) {
  const loc = make();
  describe(`app-control store: ${loc.name}`, () => {
    const now = new Date('2026-03-01T00:00:00.000Z');
    let provider: StoreProvider;
    let store: TenantStore;
    let web: string;
    let db: string;
    const host = (hostname: string): HostFacts => ({ hostname, platform: 'linux/debian 12', ips: ['10.0.0.5'], agentVersion: '0.1.0' });
    const drift = (type: 'app-control.drift' | 'app-control.blocked', path: string, sha256: string, t: number, extra = {}): AgentEvent => ({
      id: randomUUID(),
      time: new Date(now.getTime() + t).toISOString(),
      module: 'app-control',
      type,
      severity: type === 'app-control.blocked' ? 'high' : 'medium',
      message: `${type} ${path}`,
      details: {
        path,
        sha256,
        access: 'exec',
        verdict: 'unknown',
        source: 'none',
        size: 1234,
        process: { pid: 42, exe: '/usr/bin/bash' },
        user: { uid: 33, name: 'www-data' },
        firstSeen: new Date(now.getTime() + t).toISOString(),
        ...extra,
      },
    });

    before(async () => {
      provider = await StoreProvider.open(loc.location, () => now);
      store = (await provider.tenant(PRIMARY_TENANT))!;
      web = (await store.computers.activate(host('web-1'), { policyId: null, group: null, heartbeatSeconds: 30 })).computer.id;
      db = (await store.computers.activate(host('db-1'), { policyId: null, group: null, heartbeatSeconds: 30 })).computer.id;
    });
    after(async () => {
      await provider.close();
      await loc.cleanup();
    });

    test('shared rulesets: create, unique ids, rules edited in a transaction; a local ruleset appears on its first rule', async () => {
      const repo = appControlOf(store);
      const r = await repo.createRuleset({
        id: 'web-tier',
        name: 'Web tier',
        rules: [{ kind: 'path', pattern: '/tmp/', action: 'block' }],
      });
      assert.equal(r.scope, 'shared');
      await assert.rejects(repo.createRuleset({ id: 'web-tier', name: 'again', rules: [] }), { code: 'STORE_CONFLICT' });
      await assert.rejects(repo.createRuleset({ id: 'computer:x', name: 'x', rules: [] }), { code: 'STORE_INVALID_REFERENCE' });
      const updated = await repo.updateRules('web-tier', (rules) => [...rules, { kind: 'hash', sha256: A, action: 'allow' }]);
      assert.equal(updated.rules.length, 2);
      assert.deepEqual((await repo.getRuleset('web-tier'))?.rules, updated.rules);
      await assert.rejects(
        repo.updateRules('nope', (x) => x),
        { code: 'STORE_NOT_FOUND' },
      );
      // A refusal inside the edit writes nothing.
      await assert.rejects(
        repo.updateRules('web-tier', () => {
          throw new Error('refused');
        }),
        /refused/,
      );
      assert.equal((await repo.getRuleset('web-tier'))?.rules.length, 2);
      const local = await repo.updateRules(localRulesetId(web), (rules) => [...rules, { kind: 'hash', sha256: B, action: 'block' }], {
        computerId: web,
      });
      assert.equal(local.scope, 'local');
      assert.equal(local.computerId, web);
      assert.deepEqual(
        (await repo.listRulesets({ scope: 'local' })).map((x) => x.id),
        [localRulesetId(web)],
      );
      assert.deepEqual(
        (await repo.listRulesets({ computerId: web })).map((x) => x.id),
        [localRulesetId(web)],
      );
      assert.equal(await repo.deleteRuleset(localRulesetId(web)), true);
      assert.equal(await repo.deleteRuleset(localRulesetId(web)), false);
    });

    test('global block list: idempotent add, remove', async () => {
      const repo = appControlOf(store);
      await repo.addGlobalBlock(A, 'miner', 'api-key:1');
      const again = await repo.addGlobalBlock(A, 'other text', 'api-key:2');
      assert.equal(again.description, 'miner');
      assert.deepEqual(
        (await repo.listGlobalBlock()).map((g) => g.sha256),
        [A],
      );
      assert.equal(await repo.removeGlobalBlock(A), true);
      assert.equal(await repo.removeGlobalBlock(A), false);
    });

    test('drift intake from events: one record per computer, content, path and access; each event counted once', async () => {
      const batch = [
        drift('app-control.drift', '/tmp/x', A, 0),
        drift('app-control.blocked', '/tmp/x', A, 1000, { package: { manager: 'dpkg', name: 'tools', intact: false } }),
        drift('app-control.blocked', '/tmp/y', B, 2000),
        // Another module's event and a detail-less one are not drift.
        { ...drift('app-control.drift', '/tmp/z', A, 0), module: 'integrity', type: 'integrity.added' } as AgentEvent,
        { ...drift('app-control.drift', '/tmp/z', A, 0), details: {} },
      ];
      await store.events.ingest(web, batch);
      await store.events.ingest(db, [drift('app-control.drift', '/tmp/x', A, 500)]);
      assert.equal(await syncDrift(store), 4);
      // Nothing new: nothing counted again, however often intake runs.
      assert.equal(await syncDrift(store), 0);
      const repo = appControlOf(store);
      const all = (await repo.listDrift({ limit: 100 })).drift;
      assert.equal(all.length, 3);
      const x = all.find((d) => d.computerId === web && d.path === '/tmp/x')!;
      assert.equal(x.reports, 2);
      assert.equal(x.blocked, true);
      assert.equal(x.size, 1234);
      assert.deepEqual(x.package, { manager: 'dpkg', name: 'tools', intact: false });
      assert.deepEqual(x.user, { uid: 33, name: 'www-data' });
      assert.equal(x.process?.exe, '/usr/bin/bash');
      assert.equal(x.firstSeen, now.toISOString());
      assert.equal(x.lastSeen, new Date(now.getTime() + 1000).toISOString());
      assert.equal(x.status, 'open');
      // A re-sent batch (lost acknowledgement) is not new drift.
      await store.events.ingest(web, batch);
      assert.equal(await syncDrift(store), 0);
      assert.equal((await repo.getDrift(x.id))?.reports, 2);

      // Paging: most recently seen first.
      const p1 = await repo.listDrift({ limit: 2 });
      assert.equal(p1.drift.length, 2);
      assert.ok(p1.nextCursor);
      const p2 = await repo.listDrift({ limit: 2, cursor: p1.nextCursor! });
      assert.deepEqual(
        [...p1.drift, ...p2.drift].map((d) => d.lastSeen),
        all.map((d) => d.lastSeen),
      );
      assert.equal(p2.nextCursor, null);
      assert.deepEqual(
        (await repo.listDrift({ computerId: db, limit: 10 })).drift.map((d) => d.path),
        ['/tmp/x'],
      );

      // A review on one computer closes that computer's open drift of the content only.
      const closed = await repo.markReviewed(A, { action: 'allow', scope: 'computer', rulesetId: localRulesetId(web) }, 'api-key:1', [web]);
      assert.equal(closed, 1);
      assert.equal((await repo.getDrift(x.id))?.status, 'allowed');
      assert.deepEqual((await repo.getDrift(x.id))?.decision, { action: 'allow', scope: 'computer', rulesetId: localRulesetId(web) });
      assert.equal((await repo.listDrift({ status: 'open', sha256: A, limit: 10 })).drift[0]?.computerId, db);
    });

    test('drift found on disk (not run yet) is its own record; an unknown access counts as exec', async () => {
      const C = 'c'.repeat(64);
      await store.events.ingest(db, [
        drift('app-control.drift', '/usr/local/bin/waiting', C, 5000, { access: 'disk', change: 'added' }),
        drift('app-control.drift', '/usr/local/bin/waiting', C, 6000, { access: 'exec' }),
        drift('app-control.drift', '/usr/local/bin/odd', C, 7000, { access: 'weird' }),
      ]);
      await syncDrift(store);
      const rows = (await appControlOf(store).listDrift({ computerId: db, sha256: C, limit: 10 })).drift;
      assert.deepEqual(rows.map((d) => [d.path, d.access]).sort(), [
        ['/usr/local/bin/odd', 'exec'],
        ['/usr/local/bin/waiting', 'disk'],
        ['/usr/local/bin/waiting', 'exec'],
      ]);
    });
  });
}
