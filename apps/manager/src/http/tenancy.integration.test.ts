import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

/**
 * Tenant isolation, checked over every route the OpenAPI document lists: a key of tenant B must
 * get 403 or 404 for each of tenant A's objects, and B's lists never show A's objects.
 */
for (const make of testLocations()) {
  const loc = make();
  describe(`tenancy and activation tokens: ${loc.name}`, () => {
    let m: TestManager;
    let keyB: string;
    const a: Record<string, string> = {};

    before(async () => {
      m = await testManager(loc);
      assert.equal((await m.call('POST', '/api/v1/tenants', { body: { id: 'tenant-b', name: 'B' } })).status, 201);
      keyB = (await m.call('POST', '/api/v1/tenants/tenant-b/api-keys', { body: { name: 'b admin', role: 'admin' } })).body.secret;
      // One object of every kind in tenant A (the primary tenant).
      a.policy = (await m.call('POST', '/api/v1/policies', { body: { name: 'A policy' } })).body.id;
      const tok = (await m.call('POST', '/api/v1/activation-tokens', { body: { policyId: a.policy } })).body;
      a.token = tok.id;
      const act = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: tok.token, host: sampleHost('a-host') } });
      assert.equal(act.status, 201, JSON.stringify(act.body));
      a.computer = act.body.agentId;
      a.agentAuth = `${act.body.agentId}:${act.body.agentSecret}`;
      a.apiKey = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'x', role: 'auditor' } })).body.id;
      a.user = (
        await m.call('POST', '/api/v1/users', { body: { username: 'a-user', password: 'tenant a password', role: 'auditor' } })
      ).body.id;
      a.folder = (await m.call('POST', '/api/v1/smart-folders', { body: { name: 'all', query: { all: [] } } })).body.id;
      a.eventTask = (
        await m.call('POST', '/api/v1/event-tasks', {
          body: { name: 't', trigger: 'agent-activated', conditions: [], actions: [{ type: 'assign-group', group: 'g' }] },
        })
      ).body.id;
      a.schedTask = (await m.call('POST', '/api/v1/scheduled-tasks', { body: { name: 's', cron: '0 3 * * *', jobKind: 'noop' } })).body.id;
      a.command = (await m.call('POST', `/api/v1/computers/${a.computer}/commands`, { body: { kind: 'ping' } })).body.id;
      a.event = randomUUID();
      await m.call('POST', '/api/agent/v1/events', {
        agent: a.agentAuth,
        body: { events: [{ id: a.event, time: new Date().toISOString(), module: 'system', type: 'test', severity: 'info', message: 'A' }] },
      });
      a.job = (await (await m.stores.tenant('primary'))!.jobs.enqueue('noop', {}))!.id;
      a.tenant = 'primary';
      a.forwarder = (
        await m.call('POST', '/api/v1/forwarders', {
          body: { name: 'f', type: 'syslog', settings: { protocol: 'udp', address: '127.0.0.1:9', format: 'json' } },
        })
      ).body.id;
      a.playbook = (
        await m.call('POST', '/api/v1/playbooks', {
          body: { name: 'pb', trigger: { filter: { modules: ['ips'] } }, actions: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook' }] },
        })
      ).body.id;
      a.playbookAction = (
        await (await m.stores.tenant('primary'))!.playbooks.recordAction({
          playbookId: a.playbook,
          runId: randomUUID(),
          triggerKey: 'ip:192.0.2.1',
          actionIndex: 0,
          actionType: 'firewall-block-ip',
          status: 'succeeded',
          inputs: {},
          result: { address: '192.0.2.1', commands: [] },
          error: null,
          computerId: a.computer,
          eventIds: [],
          expiresAt: null,
          undoable: true,
        })
      ).id;
      a.cloudAccount = (
        await m.call('POST', '/api/v1/cloud-accounts', { body: { name: 'ca', authType: 'instance-role', regions: ['eu-west-1'] } })
      ).body.id;
      a.appControlRuleset = (await m.call('POST', '/api/v1/app-control/rulesets', { body: { id: 'a-rules' } })).body.id;
      await m.call('POST', '/api/agent/v1/events', {
        agent: a.agentAuth,
        body: {
          events: [
            {
              id: randomUUID(),
              time: new Date().toISOString(),
              module: 'app-control',
              type: 'app-control.blocked',
              severity: 'high',
              message: 'A drift',
              details: { path: '/tmp/a', sha256: 'a'.repeat(64), access: 'exec', verdict: 'unknown', source: 'none' },
            },
          ],
        },
      });
      a.appControlDrift = (await m.call('GET', '/api/v1/app-control/drift')).body.drift[0].id;
    });
    after(async () => m.close());

    /** Which of A's objects an `{id}` in a path stands for, by the path's prefix. */
    const idFor = (path: string): string | undefined => {
      const table: Array<[string, string]> = [
        ['/api/v1/tenants/', 'tenant'],
        ['/api/v1/api-keys/', 'apiKey'],
        ['/api/v1/activation-tokens/', 'token'],
        ['/api/v1/policies/', 'policy'],
        ['/api/v1/computers/', 'computer'],
        ['/api/v1/commands/', 'command'],
        ['/api/v1/events/', 'event'],
        ['/api/v1/smart-folders/', 'folder'],
        ['/api/v1/event-tasks/', 'eventTask'],
        ['/api/v1/scheduled-tasks/', 'schedTask'],
        ['/api/v1/jobs/', 'job'],
        ['/api/v1/forwarders/', 'forwarder'],
        ['/api/v1/playbooks/', 'playbook'],
        ['/api/v1/playbook-actions/', 'playbookAction'],
        ['/api/v1/cloud-accounts/', 'cloudAccount'],
        ['/api/v1/users/', 'user'],
        ['/api/v1/app-control/rulesets/', 'appControlRuleset'],
        ['/api/v1/app-control/drift/', 'appControlDrift'],
      ];
      const hit = table.find(([p]) => path.startsWith(p));
      return hit && a[hit[1]];
    };
    const bodyFor = (method: string, path: string): unknown => {
      if (method === 'get' || method === 'delete') return undefined;
      if (path.endsWith('/commands')) return { kind: 'ping' };
      if (path.endsWith('/api-keys')) return { name: 'n', role: 'auditor' };
      if (path.endsWith('/password')) return { password: 'a password from tenant b' };
      if (path.endsWith('/dead-letter-policy')) return { maxAttempts: null, maxAgeSeconds: null };
      if (path.endsWith('/app-control/rulesets/{id}/rules')) return { rules: [{ kind: 'path', pattern: '/tmp/', action: 'block' }] };
      if (path.endsWith('/app-control/drift/{id}/review')) return { action: 'allow' };
      return {};
    };

    test("every route with an id refuses another tenant's objects", async () => {
      const spec = JSON.parse((await m.app.inject({ method: 'GET', url: '/api/docs/json' })).body) as {
        paths: Record<string, Record<string, unknown>>;
      };
      let checked = 0;
      for (const [path, methods] of Object.entries(spec.paths)) {
        if (!path.startsWith('/api/v1/') || !path.includes('{id}')) continue;
        const id = idFor(path);
        assert.ok(id, `the tenancy test has no object for ${path}: add one`);
        for (const method of Object.keys(methods)) {
          const url = path.replace('{id}', encodeURIComponent(id));
          const res = await m.call(method.toUpperCase(), url, { key: keyB, body: bodyFor(method, path) });
          assert.ok(
            [403, 404].includes(res.status),
            `${method.toUpperCase()} ${url} with tenant B's key gave ${res.status} ${JSON.stringify(res.body)}`,
          );
          checked++;
        }
      }
      assert.ok(checked >= 20, `only ${checked} routes checked`);
      // And nothing was changed in A by those attempts.
      assert.equal((await m.call('GET', `/api/v1/computers/${a.computer}`)).body.deactivatedAt, null);
      assert.equal((await m.call('GET', `/api/v1/policies/${a.policy}`)).status, 200);
    });

    test("lists never show another tenant's objects", async () => {
      const spec = JSON.parse((await m.app.inject({ method: 'GET', url: '/api/docs/json' })).body) as {
        paths: Record<string, Record<string, unknown>>;
      };
      const ids = Object.values(a);
      for (const [path, methods] of Object.entries(spec.paths)) {
        if (!path.startsWith('/api/v1/') || path.includes('{') || !('get' in methods)) continue;
        const res = await m.call('GET', path, { key: keyB });
        assert.ok([200, 403].includes(res.status), `${path}: ${res.status}`);
        const text = JSON.stringify(res.body);
        for (const id of ids) if (id !== 'primary') assert.ok(!text.includes(id), `${path} leaks ${id}`);
      }
    });

    test('tenant B cannot use its key as another tenant, nor activate into A with a forged token', async () => {
      const forged = keyB.replace('psk_tenant-b.', 'psk_primary.');
      assert.equal((await m.call('GET', '/api/v1/policies', { key: forged })).status, 401);
      const tokB = (await m.call('POST', '/api/v1/activation-tokens', { key: keyB, body: {} })).body.token as string;
      const wrongTenant = tokB.replace('pat_tenant-b.', 'pat_primary.');
      const res = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: wrongTenant, host: sampleHost() } });
      assert.deepEqual([res.status, res.body.code], [401, 'TOKEN_INVALID']);
      const agentAsB = a.agentAuth!.replace(/^primary\./, 'tenant-b.');
      assert.equal((await m.call('GET', '/api/agent/v1/config', { agent: agentAsB })).status, 401);
    });

    test('expired, revoked and used-up tokens are refused with clear errors', async () => {
      const activate = (token: string) => m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host: sampleHost() } });
      const once = (await m.call('POST', '/api/v1/activation-tokens', { body: { maxUses: 1 } })).body;
      assert.equal((await activate(once.token)).status, 201);
      const used = await activate(once.token);
      assert.deepEqual([used.status, used.body.code], [401, 'TOKEN_USED_UP']);
      assert.match(used.body.message, /used/);
      const rev = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body;
      await m.call('DELETE', `/api/v1/activation-tokens/${rev.id}`);
      assert.equal((await activate(rev.token)).body.code, 'TOKEN_REVOKED');
      const exp = (await m.call('POST', '/api/v1/activation-tokens', { body: { ttlSeconds: 60 } })).body;
      m.clock.now = new Date(m.clock.now.getTime() + 61_000);
      assert.equal((await activate(exp.token)).body.code, 'TOKEN_EXPIRED');
      assert.equal((await activate('pat_primary.nothing.here')).body.code, 'TOKEN_INVALID');
      const malformed = await activate('short');
      assert.equal(malformed.status, 400);
    });

    test('activation runs event-based tasks before the agent gets its configuration', async () => {
      const web = (await m.call('POST', '/api/v1/policies', { body: { name: 'Web', settings: { heartbeatSeconds: 7 } } })).body;
      await m.call('POST', '/api/v1/event-tasks', {
        body: {
          name: 'web by name',
          trigger: 'agent-activated',
          conditions: [{ field: 'hostname', regex: '^web-\\d+$' }],
          actions: [{ type: 'assign-policy', policyId: web.id }],
        },
      });
      const tok = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
      const res = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: tok, host: sampleHost('web-7') } });
      assert.equal(res.body.heartbeatSeconds, 7);
      const c = (await m.call('GET', `/api/v1/computers/${res.body.agentId}`)).body;
      assert.equal(c.policyId, web.id);
      assert.equal(c.group, 'g', 'the earlier assign-group task ran too');
      const other = await m.call('POST', '/api/agent/v1/activate', {
        key: null,
        body: { token: (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token, host: sampleHost('db-1') },
      });
      assert.equal((await m.call('GET', `/api/v1/computers/${other.body.agentId}`)).body.policyId, null);
    });
  });
}
