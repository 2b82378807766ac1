import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { loadRuleset } from '@palisade/app-control';
import { PRIMARY_TENANT } from '../../store/store-provider.ts';
import { type TestManager, testManager } from '../../testing/test-manager.ts';
import { testLocations } from '../../testing/test-stores.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);

for (const make of testLocations()) {
  const loc = make();
  describe(`app-control API: ${loc.name}`, () => {
    let m: TestManager;
    let auditorKey: string;
    let operatorKey: string;
    let computerId: string;
    let policyId: string;

    const appControlOf = async (id = computerId) => {
      const res = await m.call('GET', `/api/v1/computers/${id}/effective-config`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { hash: res.body.hash as string, settings: res.body.config.modules['app-control'].settings as Record<string, unknown> };
    };

    before(async () => {
      m = await testManager(loc);
      const store = (await m.stores.tenant(PRIMARY_TENANT))!;
      auditorKey = (await store.apiKeys.create('auditor', 'auditor')).secret;
      operatorKey = (await store.apiKeys.create('operator', 'operator')).secret;
      const policy = await m.call('POST', '/api/v1/policies', {
        body: {
          name: 'App control',
          settings: { modules: { 'app-control': { enabled: true, mode: 'prevent', settings: { sharedRulesets: ['web-tier'] } } } },
        },
      });
      assert.equal(policy.status, 201, JSON.stringify(policy.body));
      policyId = policy.body.id;
      computerId = (
        await store.computers.activate(
          { hostname: 'web-1', platform: 'linux/debian 12', ips: ['10.0.0.5'], agentVersion: '0.1.0' },
          { policyId, group: null, heartbeatSeconds: 30 },
        )
      ).computer.id;
    });
    after(async () => {
      await m?.close();
      await loc.cleanup();
    });

    test('roles: auditors read, operators write; rules are validated all-or-nothing with the failing rule located', async () => {
      assert.equal((await m.call('GET', '/api/v1/app-control/rulesets', { key: auditorKey })).status, 200);
      const denied = await m.call('POST', '/api/v1/app-control/rulesets', { key: auditorKey, body: { id: 'x', rules: [] } });
      assert.equal(denied.status, 403);
      assert.equal(denied.body.code, 'AUTH_FORBIDDEN');
      const bad = await m.call('POST', '/api/v1/app-control/rulesets', {
        key: operatorKey,
        body: {
          id: 'bad',
          rules: [
            { kind: 'hash', sha256: A, action: 'allow' },
            { kind: 'path', pattern: 'relative/*', action: 'block' },
          ],
        },
      });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'APPCTL_RULESET_INVALID');
      assert.equal(bad.body.field, '/rules/1');
      assert.match(bad.body.message, /APPCTL_BAD_PATH/);
      assert.equal((await m.call('GET', '/api/v1/app-control/rulesets/bad')).status, 404, 'nothing half-created');
    });

    test('an assigned ruleset that does not exist reaches the agent as unresolved (the agent refuses that configuration)', async () => {
      const { settings } = await appControlOf();
      assert.deepEqual(settings.unresolvedRulesets, ['web-tier']);
      assert.equal(settings.sharedRulesets, undefined);
    });

    test('shared rulesets assigned by policy, the global block list and local decisions travel in the effective config', async () => {
      const created = await m.call('POST', '/api/v1/app-control/rulesets', {
        key: operatorKey,
        body: { id: 'web-tier', name: 'Web tier', rules: [{ kind: 'path', pattern: '/tmp/', action: 'block' }] },
      });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const before = await appControlOf();
      assert.equal(before.settings.unresolvedRulesets, undefined);
      assert.deepEqual(before.settings.rulesets, [
        { id: 'web-tier', name: 'Web tier', scope: 'shared', rules: [{ kind: 'path', pattern: '/tmp/', action: 'block' }] },
      ]);
      const added = await m.call('POST', '/api/v1/app-control/rulesets/web-tier/rules', {
        key: operatorKey,
        body: { rules: [{ kind: 'hash', sha256: A.toUpperCase(), action: 'allow' }] },
      });
      assert.equal(added.status, 200, JSON.stringify(added.body));
      assert.equal(added.body.rules[1].sha256, A);
      // The same hash again with the other action replaces the rule (a changed review), never a conflict.
      const flipped = await m.call('POST', '/api/v1/app-control/rulesets/web-tier/rules', {
        key: operatorKey,
        body: { rules: [{ kind: 'hash', sha256: A, action: 'block' }] },
      });
      assert.deepEqual(
        flipped.body.rules.map((r: { action: string }) => r.action),
        ['block', 'block'],
      );
      assert.equal(
        (await m.call('POST', '/api/v1/app-control/global-block', { key: operatorKey, body: { sha256: B, description: 'miner' } })).status,
        201,
      );
      const local = await m.call('POST', '/api/v1/app-control/decisions', {
        key: operatorKey,
        body: { sha256: B, action: 'allow', computerId },
      });
      assert.equal(local.status, 200, JSON.stringify(local.body));
      assert.equal(local.body.ruleset.id, `computer:${computerId}`);
      const after = await appControlOf();
      assert.notEqual(after.hash, before.hash, 'the agent sees a new configuration hash');
      assert.deepEqual(after.settings.globalBlock, [B]);
      assert.deepEqual(
        (after.settings.rulesets as { id: string; scope: string }[]).map((r) => [r.id, r.scope]),
        [
          ['web-tier', 'shared'],
          [`computer:${computerId}`, 'local'],
        ],
      );
      // What the manager sends loads with the rule loader the agent uses.
      for (const [i, r] of (after.settings.rulesets as unknown[]).entries())
        assert.ok(loadRuleset(r, `rulesets[${i}]`).ok, JSON.stringify(r));
      const neither = await m.call('POST', '/api/v1/app-control/decisions', { key: operatorKey, body: { sha256: B, action: 'allow' } });
      assert.equal(neither.status, 400);
      assert.equal(neither.body.code, 'APPCTL_RULESET_INVALID');
      const inUse = await m.call('DELETE', '/api/v1/app-control/rulesets/web-tier', { key: operatorKey });
      assert.equal(inUse.status, 409);
      assert.equal(inUse.body.code, 'APPCTL_RULESET_IN_USE');
      assert.match(inUse.body.message, new RegExp(policyId));
    });

    test('drift: reported by agent events, listed per computer and fleet-wide, reviewed into the local or a shared ruleset', async () => {
      const store = (await m.stores.tenant(PRIMARY_TENANT))!;
      const C = 'c'.repeat(64);
      const D = 'd'.repeat(64);
      const ev = (path: string, sha256: string, type = 'app-control.blocked') => ({
        id: randomUUID(),
        time: new Date().toISOString(),
        module: 'app-control' as const,
        type,
        severity: 'high' as const,
        message: `blocked ${path}`,
        details: { path, sha256, access: 'exec', verdict: 'unknown', source: 'none', size: 10, user: { uid: 0, name: 'root' } },
      });
      await store.events.ingest(computerId, [ev('/tmp/dropped', C), ev('/opt/tool', D, 'app-control.drift')]);
      const fleet = await m.call('GET', '/api/v1/app-control/drift', { key: auditorKey });
      assert.equal(fleet.status, 200, JSON.stringify(fleet.body));
      assert.deepEqual(fleet.body.drift.map((d: { path: string }) => d.path).sort(), ['/opt/tool', '/tmp/dropped']);
      const mine = await m.call('GET', `/api/v1/computers/${computerId}/app-control/drift`, { key: auditorKey });
      assert.equal(mine.body.drift.length, 2);
      assert.equal((await m.call('GET', '/api/v1/computers/nope/app-control/drift')).status, 404);
      const dropped = mine.body.drift.find((d: { path: string }) => d.path === '/tmp/dropped');
      assert.equal(dropped.blocked, true);
      assert.equal(dropped.user.name, 'root');

      assert.equal(
        (await m.call('POST', `/api/v1/app-control/drift/${dropped.id}/review`, { key: auditorKey, body: { action: 'allow' } })).status,
        403,
      );
      const reviewed = await m.call('POST', `/api/v1/app-control/drift/${dropped.id}/review`, {
        key: operatorKey,
        body: { action: 'allow' },
      });
      assert.equal(reviewed.status, 200, JSON.stringify(reviewed.body));
      assert.equal(reviewed.body.drift.status, 'allowed');
      assert.equal(reviewed.body.decision.scope, 'computer');
      assert.ok(reviewed.body.ruleset.rules.some((r: { sha256?: string; action: string }) => r.sha256 === C && r.action === 'allow'));
      const local = (await appControlOf()).settings.rulesets as { id: string; rules: { sha256?: string; action: string }[] }[];
      assert.ok(local.find((r) => r.id === `computer:${computerId}`)?.rules.some((r) => r.sha256 === C && r.action === 'allow'));

      // Into a shared ruleset the computer's policy assigns: the drift closes there too.
      const tool = mine.body.drift.find((d: { path: string }) => d.path === '/opt/tool');
      const shared = await m.call('POST', `/api/v1/app-control/drift/${tool.id}/review`, {
        key: operatorKey,
        body: { action: 'block', rulesetId: 'web-tier' },
      });
      assert.equal(shared.status, 200, JSON.stringify(shared.body));
      assert.equal(shared.body.drift.status, 'blocked');
      assert.equal(shared.body.decision.scope, 'ruleset');
      const open = await m.call('GET', '/api/v1/app-control/drift');
      assert.equal(open.body.drift.length, 0);
      const all = await m.call('GET', '/api/v1/app-control/drift?status=all');
      assert.equal(all.body.drift.length, 2);
      assert.equal(
        (await m.call('POST', '/api/v1/app-control/drift/nope/review', { key: operatorKey, body: { action: 'allow' } })).status,
        404,
      );
    });

    test('the OpenAPI document describes the routes', async () => {
      const doc = await m.app.inject({ method: 'GET', url: '/api/docs/json' });
      const paths = Object.keys(JSON.parse(doc.body).paths);
      for (const p of [
        '/api/v1/app-control/rulesets',
        '/api/v1/app-control/drift',
        '/api/v1/app-control/drift/{id}/review',
        '/api/v1/app-control/decisions',
      ])
        assert.ok(paths.includes(p), p);
    });
  });
}
