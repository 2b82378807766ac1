import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AppControlClient, type ApiTransport, PalisadeClient } from '@palisade/api-client';
import { type OpenApiRoutes, openApiRoutes } from '../../../manager/src/testing/openapi-routes.ts';

/**
 * The CLI reaches application control only through AppControlClient: every one of its methods,
 * called against a recording transport, must produce a method and path that the manager's
 * OpenAPI document lists.
 */
let routes: OpenApiRoutes;

before(async () => {
  routes = await openApiRoutes();
});
after(async () => {
  await routes?.close();
});

test('every AppControlClient method calls a documented route', async () => {
  const calls: { method: string; url: string }[] = [];
  const transport: ApiTransport = async (req) => {
    calls.push({ method: req.method, url: req.url });
    return { status: 200, body: '{}', headers: {} } as never;
  };
  const api = new AppControlClient(new PalisadeClient({ url: 'http://manager.invalid', apiKey: 'psk_x.y.z', transport }));
  const H = 'a'.repeat(64);
  const invocations: Record<keyof AppControlClient, () => Promise<unknown>> = {
    listRulesets: () => api.listRulesets({ scope: 'shared' }),
    getRuleset: () => api.getRuleset('web'),
    createRuleset: () => api.createRuleset({ id: 'web' }),
    addRules: () => api.addRules('web', [{ kind: 'hash', sha256: H, action: 'allow' }]),
    deleteRuleset: () => api.deleteRuleset('web'),
    localRuleset: () => api.localRuleset('c1'),
    listGlobalBlock: () => api.listGlobalBlock(),
    addGlobalBlock: () => api.addGlobalBlock(H),
    removeGlobalBlock: () => api.removeGlobalBlock(H),
    listDrift: () => api.listDrift({ status: 'all' }),
    reviewDrift: () => api.reviewDrift('d1', { action: 'allow' }),
    decide: () => api.decide({ sha256: H, action: 'block', computerId: 'c1' }),
  };
  // A method added to the client without a case here fails the test.
  const methods = Object.keys(api).filter((k) => k !== 'client' && typeof (api as unknown as Record<string, unknown>)[k] === 'function');
  assert.deepEqual(methods.sort(), Object.keys(invocations).sort());
  for (const call of Object.values(invocations)) await call();
  assert.equal(calls.length, methods.length);
  for (const c of calls)
    assert.ok(routes.documented(c.method, new URL(c.url).pathname), `${c.method} ${c.url} is not in the OpenAPI document`);
});
