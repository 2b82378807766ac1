import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

let m: TestManager;
const ids: Record<string, string> = {};

before(async () => {
  m = await testManager(testLocations()[0]!());
  const hosts = {
    web: { ...sampleHost('web-1'), tags: { env: 'prod' }, cloud: { provider: 'aws', region: 'eu-west-1' } },
    db: { ...sampleHost('db-1'), tags: { env: 'prod', region: 'us-east-1' }, cloud: { provider: 'aws', region: 'eu-west-1' } },
    dev: { ...sampleHost('web-dev'), tags: { env: 'dev' } },
  };
  for (const [name, host] of Object.entries(hosts)) {
    const token = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
    ids[name] = (await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host } })).body.agentId;
  }
});
after(async () => m.close());

async function members(query: unknown): Promise<string[]> {
  const folder = (await m.call('POST', '/api/v1/smart-folders', { body: { name: `f${Math.random()}`, query } })).body;
  const viaFolder = (await m.call('GET', `/api/v1/smart-folders/${folder.id}/computers`)).body.computers
    .map((c: { id: string }) => c.id)
    .sort();
  const viaList = (await m.call('GET', `/api/v1/computers?smartFolderId=${folder.id}`)).body.computers
    .map((c: { id: string }) => c.id)
    .sort();
  assert.deepEqual(viaList, viaFolder, 'the folder route and the list filter agree');
  return viaFolder;
}

test('a smart folder lists the computers its query matches now', async () => {
  assert.deepEqual(await members({ all: [{ field: 'tag:env', op: 'equals', value: 'prod' }] }), [ids.web, ids.db].sort());
  assert.deepEqual(
    await members({
      all: [
        { field: 'hostname', op: 'contains', value: 'web' },
        { field: 'tag:env', op: 'notEquals', value: 'prod' },
      ],
    }),
    [ids.dev],
  );
});

test('cloud metadata is visible as tags, and a user tag of the same name wins', async () => {
  assert.deepEqual(await members({ all: [{ field: 'tag:provider', op: 'equals', value: 'aws' }] }), [ids.web, ids.db].sort());
  assert.deepEqual(await members({ all: [{ field: 'tag:region', op: 'equals', value: 'eu-west-1' }] }), [ids.web]);
});
