import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type TestManager, testManager } from '../../testing/test-manager.ts';
import { testLocations } from '../../testing/test-stores.ts';

let m: TestManager;
const dir = mkdtempSync(join(tmpdir(), 'palisade-deploy-routes-'));
const bundles = join(dir, 'bundles');
const previousDir = process.env.PALISADE_AGENT_BUNDLE_DIR;
// stand-ins for tarballs: the routes hash and serve bytes, they do not unpack them
const older = Buffer.from('bundle 0.9.0');
const newer = Buffer.from('bundle 0.10.0');
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

before(async () => {
  m = await testManager(testLocations()[0]!());
  process.env.PALISADE_AGENT_BUNDLE_DIR = join(dir, 'empty');
});
after(async () => {
  await m.close();
  if (previousDir === undefined) delete process.env.PALISADE_AGENT_BUNDLE_DIR;
  else process.env.PALISADE_AGENT_BUNDLE_DIR = previousDir;
  rmSync(dir, { recursive: true, force: true });
});

test('without a bundle the manager says how to make one', async () => {
  const res = await m.call('POST', '/api/v1/deploy-scripts', { body: { platform: 'linux' } });
  assert.equal(res.status, 409);
  assert.equal(res.body.code, 'DEPLOY_BUNDLE_MISSING');
  assert.match(res.body.message, /npm run build:agent/);
});

test('a script for a policy by name: newest bundle, token scoped to the policy for the asked time, valid sh', async () => {
  mkdirSync(bundles, { recursive: true });
  writeFileSync(join(bundles, 'palisade-agent-0.9.0-linux-x64.tar.gz'), older);
  writeFileSync(join(bundles, 'palisade-agent-0.10.0-linux-x64.tar.gz'), newer);
  writeFileSync(join(bundles, 'not-a-bundle.tar.gz'), 'x');
  process.env.PALISADE_AGENT_BUNDLE_DIR = bundles;
  const policy = (await m.call('POST', '/api/v1/policies', { body: { name: 'Web servers' } })).body;
  const res = await m.call('POST', '/api/v1/deploy-scripts', {
    body: {
      platform: 'linux',
      policy: 'Web servers',
      tokenTtlSeconds: 7200,
      maxUses: 3,
      tags: { role: "it's web" },
      managerUrl: 'https://m.example:4119/',
    },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.bundle.version, '0.10.0', 'versions compare as numbers');
  assert.equal(res.body.bundle.sha256, sha(newer));
  assert.equal(res.body.bundle.url, 'https://m.example:4119/deploy/agent-bundles/palisade-agent-0.10.0-linux-x64.tar.gz');
  assert.equal(res.body.token.policyId, policy.id);
  assert.equal(res.body.token.maxUses, 3);
  const ttl = (Date.parse(res.body.token.expiresAt) - Date.now()) / 1000;
  assert.ok(ttl > 7100 && ttl <= 7200);
  const script = res.body.script as string;
  assert.ok(script.includes(`BUNDLE_SHA256='${sha(newer)}'`));
  assert.ok(script.includes(`TOKEN=\${PALISADE_ACTIVATION_TOKEN:-'${res.body.token.token}'}`));
  assert.ok(script.includes(`--tag 'role=it'\\''s web'`), 'a quote in a tag is escaped for sh');
  const syntax = spawnSync('sh', ['-n'], { input: script });
  assert.equal(syntax.status, 0, String(syntax.stderr));
  const tokens = (await m.call('GET', '/api/v1/activation-tokens')).body.tokens as { id: string }[];
  assert.ok(tokens.some((t) => t.id === res.body.token.id));
  const list = (await m.call('GET', '/api/v1/deploy/agent-bundles')).body.bundles as { file: string }[];
  assert.deepEqual(
    list.map((b) => b.file),
    ['palisade-agent-0.10.0-linux-x64.tar.gz', 'palisade-agent-0.9.0-linux-x64.tar.gz'],
  );
});

test('bad requests: unknown policy, unknown field, other platform, an auditor key', async () => {
  const unknown = await m.call('POST', '/api/v1/deploy-scripts', { body: { platform: 'linux', policy: 'nope' } });
  assert.deepEqual([unknown.status, unknown.body.code, unknown.body.field], [400, 'API_INVALID_REFERENCE', '/policy']);
  assert.equal((await m.call('POST', '/api/v1/deploy-scripts', { body: { platform: 'linux', ttl: 5 } })).status, 400);
  assert.equal((await m.call('POST', '/api/v1/deploy-scripts', { body: { platform: 'windows' } })).status, 400);
  const auditor = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'a', role: 'auditor' } })).body.secret;
  assert.equal((await m.call('POST', '/api/v1/deploy-scripts', { key: auditor, body: { platform: 'linux' } })).status, 403);
  assert.equal((await m.call('POST', '/api/v1/deploy-scripts', { key: null, body: { platform: 'linux' } })).status, 401);
});

test('bundles and checksums download without a key; nothing else in or beside the folder does', async () => {
  const res = await m.app.inject({ method: 'GET', url: '/deploy/agent-bundles/palisade-agent-0.9.0-linux-x64.tar.gz' });
  assert.equal(res.statusCode, 200);
  assert.deepEqual(res.rawPayload, older);
  assert.equal(res.headers['x-checksum-sha256'], sha(older));
  const sum = await m.app.inject({ method: 'GET', url: '/deploy/agent-bundles/palisade-agent-0.9.0-linux-x64.tar.gz.sha256' });
  assert.equal(sum.payload, `${sha(older)}  palisade-agent-0.9.0-linux-x64.tar.gz\n`);
  for (const url of ['/deploy/agent-bundles/not-a-bundle.tar.gz', '/deploy/agent-bundles/..%2Fbundles%2Fnot-a-bundle.tar.gz']) {
    assert.equal((await m.app.inject({ method: 'GET', url })).statusCode, 404, url);
  }
});
