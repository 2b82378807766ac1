import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ARTIFACT_DOWNLOAD_JOB, artifactDownloadJob } from '../../artifacts/artifact-service.ts';
import { JobRunner } from '../../jobs/job-runner.ts';
import { sampleHost, type TestManager, testManager } from '../../testing/test-manager.ts';
import { testLocations } from '../../testing/test-stores.ts';

const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');
const NDB = 'Palisade.Test.Marker-1:0:*:50414c49534144452d544553542d4d41524b4552\n';
const FEED = '# test feed\nevil.example\nbad.example.net\n';

// Sets and feeds over the API (SQLite; the store contract itself runs on both backends).
const loc = testLocations()[0]!();
describe('artifact routes', () => {
  let m: TestManager;
  let operator: string;
  let auditor: string;
  let keyB: string;
  let agentAuth: string;
  let agentB: string;
  let computerId: string;
  let policyId: string;
  const dir = mkdtempSync(join(tmpdir(), 'palisade-artifacts-'));

  const put = (url: string, body: string | Buffer, key?: string) =>
    m.app
      .inject({
        method: 'PUT',
        url,
        headers: { authorization: `Bearer ${key ?? m.adminKey}`, 'content-type': 'application/octet-stream' },
        payload: body,
      })
      .then((r) => ({ status: r.statusCode, body: JSON.parse(r.body) }));

  before(async () => {
    m = await testManager(loc);
    operator = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'op', role: 'operator' } })).body.secret;
    auditor = (await m.call('POST', '/api/v1/api-keys', { body: { name: 'au', role: 'auditor' } })).body.secret;
    assert.equal((await m.call('POST', '/api/v1/tenants', { body: { id: 'tenant-b', name: 'B' } })).status, 201);
    keyB = (await m.call('POST', '/api/v1/tenants/tenant-b/api-keys', { body: { name: 'b', role: 'admin' } })).body.secret;
    policyId = (await m.call('POST', '/api/v1/policies', { body: { name: 'servers' } })).body.id;
    const tok = (await m.call('POST', '/api/v1/activation-tokens', { body: { policyId } })).body.token;
    const act = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: tok, host: sampleHost('a-1') } });
    computerId = act.body.agentId;
    agentAuth = `${act.body.agentId}:${act.body.agentSecret}`;
    const tokB = (await m.call('POST', '/api/v1/activation-tokens', { key: keyB, body: {} })).body.token;
    const actB = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: tokB, host: sampleHost('b-1') } });
    agentB = `${actB.body.agentId}:${actB.body.agentSecret}`;
  });
  after(async () => {
    await m.close();
    await loc.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an operator uploads a signature set; the same bytes again only refresh it; an auditor reads', async () => {
    const res = await put('/api/v1/signature-sets/custom?format=ndb&description=ours', NDB, operator);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.artifact.sha256, sha(NDB));
    assert.equal(res.body.artifact.version, 1);
    assert.equal(res.body.artifact.description, 'ours');
    const again = await put('/api/v1/signature-sets/custom?format=ndb', NDB, operator);
    assert.deepEqual([again.status, again.body.changed, again.body.artifact.version], [200, false, 1]);
    const list = await m.call('GET', '/api/v1/signature-sets', { key: auditor });
    assert.deepEqual(
      list.body.artifacts.map((a: { name: string }) => a.name),
      ['custom'],
    );
    assert.ok(!JSON.stringify(list.body).includes('50414c49'), 'lists never carry the bytes');
    const one = await m.call('GET', '/api/v1/signature-sets/custom', { key: auditor });
    assert.deepEqual([one.status, one.body.usedBy], [200, []]);
    assert.equal((await put('/api/v1/signature-sets/x?format=ndb', NDB, auditor)).status, 403);
  });

  test('a set that does not parse is refused with file:line diagnostics and nothing is stored', async () => {
    const bad = `${NDB}Broken.Sig:0:*:4142ZZ\n`;
    const res = await put('/api/v1/signature-sets/broken?format=ndb', bad);
    assert.equal(res.status, 400);
    assert.equal(res.body.code, 'ARTIFACT_INVALID');
    const d = res.body.diagnostics.find((x: { severity: string }) => x.severity === 'error');
    assert.ok(d, JSON.stringify(res.body));
    assert.equal(d.file, 'broken.ndb');
    assert.equal(d.line, 2);
    assert.match(res.body.message, /broken\.ndb:2/);
    assert.equal((await m.call('GET', '/api/v1/signature-sets/broken')).status, 404);
    const yara = await put('/api/v1/signature-sets/y?format=yara', 'rule x {\n  strings: $a = "x"\n  condition: $b\n}\n');
    assert.equal(yara.status, 400);
    assert.ok(yara.body.diagnostics.some((x: { file?: string; line?: number }) => x.file === 'y.yar' && x.line));
    assert.equal((await put('/api/v1/signature-sets/z?format=exe', NDB)).status, 400);
    assert.equal((await put('/api/v1/signature-sets/z?format=ndb', '')).status, 400);
    assert.equal((await put('/api/v1/signature-sets/..%2Fetc?format=ndb', NDB)).status, 400);
  });

  test('feeds: plain or gzip, detected format; a feed without one usable entry is refused', async () => {
    const res = await put('/api/v1/webrep-feeds/blocklist', FEED, operator);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    assert.equal(res.body.summary.entries, 2);
    const gz = await put('/api/v1/webrep-feeds/gz', gzipSync(FEED), operator);
    assert.deepEqual([gz.status, gz.body.summary.entries], [201, 2]);
    // An explicit format the agent would not see (it detects from the content) is refused.
    const mismatch = await put('/api/v1/webrep-feeds/hosts?format=hosts', FEED);
    assert.equal(mismatch.status, 400);
    assert.equal(mismatch.body.diagnostics[0].code, 'ARTIFACT_FORMAT_MISMATCH');
    const forced = await put('/api/v1/webrep-feeds/cidr', '# palisade: format=cidr-list\n10.0.0.0/8\n', operator);
    assert.equal(forced.status, 201, JSON.stringify(forced.body));
    assert.equal(forced.body.summary.format, 'cidr-list');
    const bad = await put('/api/v1/webrep-feeds/junk?format=cidr-list', 'not-an-ip\nalso not\n');
    assert.equal(bad.status, 400);
    assert.ok(bad.body.diagnostics.length > 0);
    assert.ok(
      bad.body.diagnostics.some((d: { line?: number }) => d.line === 1),
      JSON.stringify(bad.body.diagnostics),
    );
  });

  test('a policy names artifacts; agents get {sha256, size, url}; a new version changes the config hash', async () => {
    const settings = {
      modules: {
        'anti-malware': { settings: { signatureSets: ['custom', 'nope'] } },
        'web-reputation': { settings: { feeds: [{ name: 'blocklist', risk: 'dangerous' }, { file: '/etc/palisade/local.txt' }] } },
      },
    };
    assert.equal((await m.call('PATCH', `/api/v1/policies/${policyId}`, { body: { settings } })).status, 200);
    const cfg = await m.call('GET', '/api/agent/v1/config', { agent: agentAuth });
    const am = cfg.body.config.modules['anti-malware'].settings.signatureSets;
    assert.deepEqual(am[0], {
      kind: 'signature-set',
      name: 'custom',
      sha256: sha(NDB),
      size: NDB.length,
      format: 'ndb',
      url: `/api/agent/v1/artifacts/${sha(NDB)}`,
      refreshedAt: am[0].refreshedAt,
    });
    assert.deepEqual(am[1], { kind: 'signature-set', name: 'nope', missing: true });
    const feeds = cfg.body.config.modules['web-reputation'].settings.feeds;
    assert.equal(feeds[0].artifact.sha256, sha(FEED));
    assert.equal(feeds[0].risk, 'dangerous');
    assert.deepEqual(feeds[1], { file: '/etc/palisade/local.txt' }, 'local feed files are left alone');

    const dl = await m.app.inject({ method: 'GET', url: am[0].url, headers: { authorization: `Agent ${agentAuth}` } });
    assert.equal(dl.statusCode, 200);
    assert.equal(dl.body, NDB);
    // another tenant's agent cannot fetch it, nor can an API key or nobody
    assert.equal((await m.app.inject({ method: 'GET', url: am[0].url, headers: { authorization: `Agent ${agentB}` } })).statusCode, 404);
    assert.equal(
      (await m.app.inject({ method: 'GET', url: am[0].url, headers: { authorization: `Bearer ${m.adminKey}` } })).statusCode,
      401,
    );
    assert.equal((await m.call('GET', '/api/v1/signature-sets/custom', { key: keyB })).status, 404);

    const hb = async () =>
      (
        await m.call('POST', '/api/agent/v1/heartbeat', {
          agent: agentAuth,
          body: { host: sampleHost('a-1'), configHash: '', modules: {}, spool: { pending: 0, dropped: 0 } },
        })
      ).body.configHash;
    const before = await hb();
    assert.equal(before, cfg.body.hash);
    const v2 = `${NDB}Palisade.Test.Marker-2:0:*:4d41524b45522d32\n`;
    assert.equal((await put('/api/v1/signature-sets/custom?format=ndb', v2)).body.artifact.version, 2);
    const afterHash = await hb();
    assert.notEqual(afterHash, before, 'a new version of a named set is a new configuration');
    const cfg2 = await m.call('GET', '/api/agent/v1/config', { agent: agentAuth });
    assert.equal(cfg2.body.config.modules['anti-malware'].settings.signatureSets[0].sha256, sha(v2));
    // the computer's effective-config view resolves the same way
    const eff = await m.call('GET', `/api/v1/computers/${computerId}/effective-config`);
    assert.equal(eff.body.hash, afterHash);
  });

  test('delete is refused while a policy names the artifact', async () => {
    const res = await m.call('DELETE', '/api/v1/signature-sets/custom', { key: operator });
    assert.deepEqual([res.status, res.body.code], [409, 'ARTIFACT_IN_USE']);
    assert.match(res.body.message, /policy:servers/);
    assert.deepEqual((await m.call('GET', '/api/v1/signature-sets/custom')).body.usedBy, ['policy:servers']);
    await m.call('PATCH', `/api/v1/policies/${policyId}`, { body: { settings: {} } });
    assert.equal((await m.call('DELETE', '/api/v1/signature-sets/custom', { key: auditor })).status, 403);
    assert.equal((await m.call('DELETE', '/api/v1/signature-sets/custom', { key: operator })).status, 200);
    assert.equal((await m.call('DELETE', '/api/v1/signature-sets/custom', { key: operator })).status, 404);
  });

  test('import a folder on the manager host: all or nothing, admins only', async () => {
    const folder = join(dir, 'clamav');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(folder);
    writeFileSync(join(folder, 'a.ndb'), NDB);
    writeFileSync(join(folder, 'b.hdb'), '44d88612fea8a8f36de82e1278abb02f:68:EICAR-Test\n');
    writeFileSync(join(folder, 'c.ldb'), 'not a logical signature\n');
    writeFileSync(join(folder, 'README'), 'ignored\n');
    const bad = await m.call('POST', '/api/v1/signature-sets/import-folder', { body: { path: folder } });
    assert.equal(bad.status, 400);
    assert.ok(
      bad.body.diagnostics.some((d: { file?: string }) => d.file === 'c.ldb'),
      JSON.stringify(bad.body),
    );
    assert.equal((await m.call('GET', '/api/v1/signature-sets/a')).status, 404, 'nothing stored');
    rmSync(join(folder, 'c.ldb'));
    assert.equal((await m.call('POST', '/api/v1/signature-sets/import-folder', { key: operator, body: { path: folder } })).status, 403);
    const ok = await m.call('POST', '/api/v1/signature-sets/import-folder', { body: { path: folder } });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.deepEqual(
      ok.body.imported.map((i: { artifact: { name: string; format: string } }) => [i.artifact.name, i.artifact.format]),
      [
        ['a', 'ndb'],
        ['b', 'hdb'],
      ],
    );
    assert.deepEqual(ok.body.skipped, ['README']);
    assert.equal((await m.call('POST', '/api/v1/signature-sets/import-folder', { body: { path: join(dir, 'none') } })).status, 400);
  });

  test('periodic download from a URL (loopback): stores, refreshes, and keeps the old version when a download is bad', async () => {
    let served: string | Buffer = 'first.example\n';
    let status = 200;
    const server: Server = createServer((_req, res) => {
      res.statusCode = status;
      res.end(served);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.txt`;
    const runner = new JobRunner(m.stores, {
      notify: () => undefined,
      handlers: { [ARTIFACT_DOWNLOAD_JOB]: artifactDownloadJob(m.stores.clock) },
    });
    try {
      const sched = await m.call('PUT', '/api/v1/webrep-feeds/remote/download', { key: operator, body: { url, cron: '0 */6 * * *' } });
      assert.equal(sched.status, 200, JSON.stringify(sched.body));
      assert.equal(sched.body.cron, '0 */6 * * *');
      await runner.tick();
      const first = (await m.call('GET', '/api/v1/webrep-feeds/remote')).body.artifact;
      assert.deepEqual([first.sha256, first.source, first.lastError], [sha('first.example\n'), `url:${url}`, null]);
      const tasks = (await m.call('GET', '/api/v1/scheduled-tasks')).body;
      const list = Array.isArray(tasks) ? tasks : (tasks.tasks ?? tasks.scheduledTasks);
      assert.ok(
        list.some((t: { name: string }) => t.name === 'artifact-download:webrep-feed:remote'),
        JSON.stringify(tasks),
      );

      // a bad download: the stored feed stays, the reason is shown
      served = 'nothing usable here at all ###\n';
      m.clock.now = new Date(m.clock.now.getTime() + 7 * 3600_000);
      status = 200;
      const store = (await m.stores.tenant('primary'))!;
      await store.jobs.enqueue(ARTIFACT_DOWNLOAD_JOB, { kind: 'webrep-feed', name: 'remote', url: `${url}?cidr`, format: 'cidr-list' });
      await runner.tick();
      const kept = (await m.call('GET', '/api/v1/webrep-feeds/remote')).body.artifact;
      assert.equal(kept.sha256, first.sha256);
      assert.match(kept.lastError ?? '', /download of .* failed/);
      status = 503;
      await store.jobs.enqueue(ARTIFACT_DOWNLOAD_JOB, { kind: 'webrep-feed', name: 'remote', url, format: 'auto' });
      await runner.tick();
      assert.match((await m.call('GET', '/api/v1/webrep-feeds/remote')).body.artifact.lastError, /503/);

      // the same content again: refreshed, not a new version
      status = 200;
      served = 'first.example\n';
      await store.jobs.enqueue(ARTIFACT_DOWNLOAD_JOB, { kind: 'webrep-feed', name: 'remote', url, format: 'auto' });
      await runner.tick();
      const fresh = (await m.call('GET', '/api/v1/webrep-feeds/remote')).body.artifact;
      assert.deepEqual([fresh.version, fresh.lastError], [1, null]);
      assert.ok(fresh.refreshedAt > first.refreshedAt);

      assert.equal((await m.call('DELETE', '/api/v1/webrep-feeds/remote/download', { key: operator })).status, 200);
      assert.equal((await m.call('DELETE', '/api/v1/webrep-feeds/remote/download', { key: operator })).status, 404);
    } finally {
      await runner.stop();
      await new Promise((r) => server.close(r));
    }
  });

  test('every artifact route is in the OpenAPI document with its schemas', async () => {
    const spec = JSON.parse((await m.app.inject({ method: 'GET', url: '/api/docs/json' })).body) as {
      paths: Record<string, Record<string, { responses?: Record<string, unknown>; parameters?: unknown[] }>>;
    };
    const paths = Object.keys(spec.paths).filter((p) => /signature-sets|webrep-feeds|agent\/v1\/artifacts/.test(p));
    assert.ok(paths.length >= 9, paths.join(', '));
    for (const p of paths)
      for (const [method, op] of Object.entries(spec.paths[p]!)) assert.ok(op.responses?.['200'], `${method} ${p} has no response schema`);
  });
});
