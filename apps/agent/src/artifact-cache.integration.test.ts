import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { agentAuthorization, type ArtifactRef } from '@palisade/protocol';
import { silentLogger } from './agent-logger.ts';
import { ArtifactCache } from './artifact-cache.ts';
import { ManagerClient } from './manager-client.ts';

const sha = (b: string) => createHash('sha256').update(b).digest('hex');
const V1 = 'Marker.One:0:*:4f4e45\n';
const V2 = 'Marker.Two:0:*:54574f\n';
const FEED = 'evil.example\n';

/** A stand-in manager on loopback: serves artifacts by sha256, or whatever `override` says. */
const served = new Map<string, string>();
let override: string | undefined;
let requests = 0;
let server: Server;
let client: ManagerClient;
const dir = mkdtempSync(join(tmpdir(), 'palisade-artifact-cache-'));
const auth = agentAuthorization('primary.agent-1', 'secret');

before(async () => {
  server = createServer((req, res) => {
    requests++;
    const m = /^\/api\/agent\/v1\/artifacts\/([0-9a-f]{64})$/.exec(req.url ?? '');
    if (req.headers.authorization !== auth || !m) {
      res.statusCode = 401;
      return res.end('{}');
    }
    const body = override ?? served.get(m[1]!);
    if (body === undefined) {
      res.statusCode = 404;
      return res.end('{}');
    }
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  client = new ManagerClient({
    managerUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { agentId: 'primary.agent-1', agentSecret: 'secret' },
  });
});
after(async () => {
  client.close();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const ref = (name: string, body: string, format = 'ndb'): ArtifactRef => ({
  kind: 'signature-set',
  name,
  sha256: sha(body),
  size: Buffer.byteLength(body),
  format,
  url: `/api/agent/v1/artifacts/${sha(body)}`,
});
const config = (sets: unknown[], feeds: unknown[] = []) => ({
  heartbeatSeconds: 30,
  spool: { maxBytes: 1 << 20 },
  modules: {
    'anti-malware': { enabled: true, mode: 'prevent', settings: { signatureSets: sets, signatures: { yara: ['/opt/local.yar'] } } },
    'web-reputation': { enabled: true, mode: 'prevent', settings: { level: 'high', feeds } },
  },
});
type Resolved = { modules: Record<string, { settings: Record<string, any> }> };
const cache = () => new ArtifactCache({ dir: join(dir, 'artifacts'), client: () => client, logger: silentLogger(), retryMs: 60_000 });

test('a verified set becomes a local file for the module; a mismatching download is refused and the old set stays', async () => {
  served.set(sha(V1), V1);
  const c = cache();
  const first = await c.prepare('h1', config([ref('custom', V1)]));
  assert.equal(first.hash, 'h1');
  const am = (first.config as Resolved).modules['anti-malware']!.settings;
  assert.equal(am.signatureSets, undefined, 'the module never sees the references');
  assert.deepEqual(am.signatures.yara, ['/opt/local.yar'], 'local files named by the policy are kept');
  assert.equal(am.signatures.clamav.length, 1);
  assert.equal(readFileSync(am.signatures.clamav[0], 'utf8'), V1);
  assert.match(am.signatures.clamav[0], /custom\.ndb$/);

  // The manager now announces V2 but serves other bytes (a damaged or tampered blob).
  override = 'Marker.Evi:0:*:45564c\n'; // as long as V2: only the hash tells
  const before = requests;
  const second = await c.prepare('h2', config([ref('custom', V2)]));
  assert.equal(requests, before + 1);
  assert.equal(second.hash, 'h2+artifacts-pending', 'reported as not fully applied, so the next heartbeat retries');
  const am2 = (second.config as Resolved).modules['anti-malware']!.settings;
  assert.equal(readFileSync(am2.signatures.clamav[0], 'utf8'), V1, 'the previous version stays in force');
  const [p] = c.problemsOf('anti-malware');
  assert.equal(p?.code, 'AGENT_ARTIFACT_HASH_MISMATCH');
  assert.equal(p?.inForce, sha(V1));
  const st = c.annotate('anti-malware', { state: 'running', details: { filesScanned: 3 } });
  assert.equal(st.state, 'running');
  assert.match(
    st.reason ?? '',
    /signature set custom: downloaded content has sha256 .* refused; the previous version \(\w+\) stays in force/,
  );
  assert.equal(st.details?.degraded, true);
  assert.equal(st.details?.filesScanned, 3);
  assert.deepEqual(c.annotate('web-reputation', { state: 'running' }), { state: 'running' });

  // The same failing version is not downloaded again at once (backoff); the status still says why.
  const third = await c.prepare('h2+artifacts-pending', config([ref('custom', V2)]));
  assert.equal(requests, before + 1);
  assert.equal(third.hash, 'h2+artifacts-pending');
  assert.equal(c.problemsOf('anti-malware').length, 1);

  // The resolved configuration as cached on disk keeps its pending hash across a restart.
  const cached = await cache().prepare(third.hash, third.config);
  assert.equal(cached.hash, 'h2+artifacts-pending');
  assert.deepEqual(cached.config, third.config);

  // Repaired on the manager; a restarted agent (new cache, no backoff) takes V2 and drops V1.
  override = undefined;
  served.set(sha(V2), V2);
  const c2 = cache();
  const fixed = await c2.prepare('h2', config([ref('custom', V2)]));
  assert.equal(fixed.hash, 'h2');
  const path2 = (fixed.config as Resolved).modules['anti-malware']!.settings.signatures.clamav[0];
  assert.equal(readFileSync(path2, 'utf8'), V2);
  assert.equal(c2.problemsOf('anti-malware').length, 0);
  assert.throws(() => statSync(am.signatures.clamav[0]), /ENOENT/, 'the superseded version is removed');
});

test('restart without the manager: the verified local copy is used, nothing is downloaded', async () => {
  served.clear();
  const before = requests;
  const c = cache();
  const res = await c.prepare('h2', config([ref('custom', V2)]));
  assert.equal(res.hash, 'h2');
  assert.equal(requests, before);
  assert.equal(readFileSync((res.config as Resolved).modules['anti-malware']!.settings.signatures.clamav[0], 'utf8'), V2);
});

test('feeds become files whose mtime is the manager refresh time; unknown names are reported and left out', async () => {
  served.set(sha(FEED), FEED);
  const refreshedAt = '2026-01-01T00:00:00.000Z';
  const feedRef: ArtifactRef = { ...ref('blocklist', FEED, 'auto'), kind: 'webrep-feed', refreshedAt };
  const c = cache();
  const res = await c.prepare(
    'h3',
    config(
      [{ kind: 'signature-set', name: 'gone', missing: true }],
      [{ name: 'blocklist', risk: 'dangerous', artifact: feedRef }, { file: '/etc/local-feed.txt' }],
    ),
  );
  assert.equal(res.hash, 'h3+artifacts-pending');
  const feeds = (res.config as Resolved).modules['web-reputation']!.settings.feeds;
  assert.equal(feeds.length, 2);
  assert.deepEqual(Object.keys(feeds[0]).sort(), ['file', 'name', 'risk']);
  assert.match(feeds[0].file, /\/blocklist$/, 'the file name is the feed name the verdicts carry');
  assert.equal(statSync(feeds[0].file).mtime.toISOString(), refreshedAt);
  assert.deepEqual(feeds[1], { file: '/etc/local-feed.txt' });
  assert.equal(c.problemsOf('anti-malware')[0]?.code, 'AGENT_ARTIFACT_MISSING');
  assert.match(c.problemsOf('anti-malware')[0]?.message ?? '', /no earlier version is on this host/);
  assert.equal(c.problemsOf('web-reputation').length, 0);
});

test('the web-reputation module flags a feed the manager stopped refreshing as stale', async () => {
  const { WebReputationModule } = await import('./modules/web-reputation/web-reputation-module.ts');
  const c = cache();
  const statusFor = async (refreshedAt: string) => {
    const feedRef: ArtifactRef = { ...ref('aging', 'aging.example\n', 'auto'), kind: 'webrep-feed', refreshedAt };
    served.set(feedRef.sha256!, 'aging.example\n');
    const res = await c.prepare('h4', {
      heartbeatSeconds: 30,
      spool: { maxBytes: 1 << 20 },
      modules: {
        'web-reputation': {
          enabled: true,
          mode: 'detect',
          settings: { feeds: [{ name: 'aging', artifact: feedRef }], feedMaxAgeHours: 48 },
        },
      },
    });
    const mc = (res.config as { modules: Record<string, any> }).modules['web-reputation'];
    const m = new WebReputationModule();
    assert.deepEqual(m.configure(mc), []);
    await m.start({ emit: (e) => e as never, logger: silentLogger(), dataDir: dir, config: mc });
    try {
      assert.equal(m.judge('http://aging.example/').risk, 'dangerous');
      return m.status();
    } finally {
      await m.stop();
    }
  };
  const old = await statusFor(new Date(Date.now() - 72 * 3600_000).toISOString());
  assert.match(old.reason ?? '', /stale feeds \(older than 48 h\): .*\/aging/);
  assert.equal((old.details?.staleFeeds as string[]).length, 1);
  const fresh = await statusFor(new Date(Date.now() - 3600_000).toISOString());
  assert.deepEqual(fresh.details?.staleFeeds, []);
});
