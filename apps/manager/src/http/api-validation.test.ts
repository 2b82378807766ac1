import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

let m: TestManager;
before(async () => {
  m = await testManager(testLocations()[0]!());
});
after(async () => m.close());

const raw = (method: string, url: string, payload: string, contentType = 'application/json') =>
  m.app.inject({ method: method as 'POST', url, payload, headers: { authorization: `Bearer ${m.adminKey}`, 'content-type': contentType } });

test('malformed JSON is a 400 with a stable code, never a 500', async () => {
  for (const payload of ['{', '{"name": }', 'null x', '[1,', '\u0000']) {
    const res = await raw('POST', '/api/v1/policies', payload);
    assert.equal(res.statusCode, 400, payload);
    assert.equal(JSON.parse(res.body).code, 'API_MALFORMED_JSON', payload);
  }
});

test('wrong types name the offending field', async () => {
  const cases: Array<[string, string, unknown, string]> = [
    ['POST', '/api/v1/policies', { name: 42 }, '/name'],
    ['POST', '/api/v1/policies', { name: 'x', settings: { heartbeatSeconds: '10' } }, '/settings/heartbeatSeconds'],
    ['POST', '/api/v1/policies', { name: 'x', settings: { modules: { ips: { mode: 'block-everything' } } } }, '/settings/modules/ips/mode'],
    ['POST', '/api/v1/activation-tokens', { ttlSeconds: 'soon' }, '/ttlSeconds'],
    ['POST', '/api/v1/api-keys', { name: 'k', role: 'root' }, '/role'],
    ['POST', '/api/v1/smart-folders', { name: 'f', query: { all: [{ field: 'hostname', op: 'like', value: 'x' }] } }, '/query'],
  ];
  for (const [method, url, body, field] of cases) {
    const res = await m.call(method, url, { body });
    assert.equal(res.status, 400, `${url} ${JSON.stringify(body)}`);
    assert.equal(res.body.code, 'API_VALIDATION');
    assert.ok(String(res.body.field).startsWith(field), `${JSON.stringify(res.body)} should name ${field}`);
  }
});

test('unknown fields are refused, not silently dropped', async () => {
  const res = await m.call('POST', '/api/v1/policies', { body: { name: 'p', colour: 'blue' } });
  assert.equal(res.status, 400);
  assert.equal(res.body.code, 'API_VALIDATION');
  assert.equal(res.body.field, '/colour');
  const nested = await m.call('POST', '/api/v1/policies', { body: { name: 'p', settings: { spool: { maxBytes: 100000, extra: 1 } } } });
  assert.equal(nested.body.field, '/settings/spool/extra');
});

test('invalid values that JSON Schema cannot see are still 400s with their field', async () => {
  const cidr = await m.call('POST', '/api/v1/smart-folders', {
    body: { name: 'f', query: { all: [{ field: 'ip', op: 'inCidr', value: '10.0.0.0/40' }] } },
  });
  assert.deepEqual([cidr.status, cidr.body.field], [400, '/query/all/0/value']);
  const cron = await m.call('POST', '/api/v1/scheduled-tasks', { body: { name: 's', cron: 'every tuesday', jobKind: 'noop' } });
  assert.deepEqual([cron.status, cron.body.code], [400, 'API_VALIDATION']);
  const re = await m.call('POST', '/api/v1/event-tasks', {
    body: { name: 't', trigger: 'agent-activated', conditions: [{ field: 'hostname', regex: '(' }], actions: [{ type: 'deactivate' }] },
  });
  assert.deepEqual([re.status, re.body.field], [400, '/conditions/0/regex']);
  const ref = await m.call('POST', '/api/v1/activation-tokens', { body: { policyId: 'nope' } });
  assert.deepEqual([ref.status, ref.body.code, ref.body.field], [400, 'API_INVALID_REFERENCE', '/policyId']);
});

test('query strings are converted and checked', async () => {
  assert.equal((await m.call('GET', '/api/v1/events?limit=5')).status, 200);
  const bad = await m.call('GET', '/api/v1/events?limit=lots');
  assert.deepEqual([bad.status, bad.body.code], [400, 'API_VALIDATION']);
  const cursor = await m.call('GET', '/api/v1/events?cursor=garbage');
  assert.equal(cursor.status, 400);
});

test('authentication errors have their own codes', async () => {
  assert.equal((await m.call('GET', '/api/v1/policies', { key: null })).body.code, 'AUTH_MISSING');
  assert.equal((await m.call('GET', '/api/v1/policies', { key: 'psk_primary.x.y' })).body.code, 'AUTH_INVALID');
  assert.equal((await m.call('GET', '/api/v1/policies', { key: 'garbage' })).status, 401);
  const created = await m.call('POST', '/api/v1/api-keys', { body: { name: 'temp', role: 'auditor' } });
  await m.call('DELETE', `/api/v1/api-keys/${created.body.id}`);
  assert.equal((await m.call('GET', '/api/v1/policies', { key: created.body.secret })).body.code, 'AUTH_REVOKED');
});

test('roles: auditors read, operators cannot manage keys', async () => {
  const auditor = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'a', role: 'auditor' } })).body.secret;
  const operator = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'o', role: 'operator' } })).body.secret;
  assert.equal((await m.call('GET', '/api/v1/policies', { key: auditor })).status, 200);
  assert.equal((await m.call('POST', '/api/v1/policies', { key: auditor, body: { name: 'x' } })).body.code, 'AUTH_FORBIDDEN');
  assert.equal((await m.call('POST', '/api/v1/policies', { key: operator, body: { name: 'by-operator' } })).status, 201);
  assert.equal((await m.call('GET', '/api/v1/api-keys', { key: operator })).status, 403);
  assert.equal((await m.call('GET', '/api/v1/tenants', { key: operator })).status, 403);
});

test('unknown routes are 404 with a code; OpenAPI is served', async () => {
  assert.equal((await m.call('GET', '/api/v1/nothing')).body.code, 'API_ROUTE_NOT_FOUND');
  const spec = await m.app.inject({ method: 'GET', url: '/api/docs/json' });
  assert.equal(spec.statusCode, 200);
  assert.ok(JSON.parse(spec.body).paths['/api/v1/computers/{id}']);
  const metrics = await m.app.inject({ method: 'GET', url: '/metrics' });
  assert.match(metrics.body, /palisade_heartbeats_total/);
});
