/**
 * Signature-set and feed distribution (ADR 0007): what it costs where it runs often.
 *
 * 1. Manager, every heartbeat: `effectiveConfigFor` of a computer whose policy names two sets
 *    and one feed, against the same policy without them (CPU per call, SQLite, in-process).
 * 2. Agent, once per new version: download over loopback HTTP + SHA-256 check + rename of a
 *    large set, against `sha256sum` of the same file (the established tool, same run).
 *
 *   npx tsx bench/artifacts/run.ts [-- --calls 20000 --mb 64]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../apps/agent/src/agent-logger.ts';
import { ArtifactCache } from '../../apps/agent/src/artifact-cache.ts';
import { ManagerClient } from '../../apps/agent/src/manager-client.ts';
import { storeArtifact } from '../../apps/manager/src/artifacts/artifact-service.ts';
import { effectiveConfigFor } from '../../apps/manager/src/services/effective-config-service.ts';
import { PolicyChainCache } from '../../apps/manager/src/services/policy-chain-cache.ts';
import { PRIMARY_TENANT, StoreProvider } from '../../apps/manager/src/store/store-provider.ts';
import { sha256Of } from '../../apps/manager/src/store/artifact-repository.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CALLS = arg('calls', 20_000);
const MB = arg('mb', 64);
const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-artifacts-'));
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

try {
  console.log(
    `cores ${cpus().length}, load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  const stores = await StoreProvider.open({ kind: 'sqlite', dataDir: join(dir, 'manager') });
  const store = (await stores.tenant(PRIMARY_TENANT))!;
  const clock = () => new Date();
  await storeArtifact(store, clock, {
    kind: 'signature-set',
    name: 'a',
    format: 'ndb',
    bytes: Buffer.from('A:0:*:41424344\n'),
    source: 'bench',
  });
  await storeArtifact(store, clock, {
    kind: 'signature-set',
    name: 'b',
    format: 'hdb',
    bytes: Buffer.from('44d88612fea8a8f36de82e1278abb02f:68:EICAR\n'),
    source: 'bench',
  });
  await storeArtifact(store, clock, {
    kind: 'webrep-feed',
    name: 'f',
    format: 'auto',
    bytes: Buffer.from('evil.example\n'),
    source: 'bench',
  });
  const plain = await store.policies.create({
    name: 'plain',
    settings: { modules: { 'anti-malware': { enabled: true, settings: {} } } },
  } as never);
  const named = await store.policies.create({
    name: 'named',
    settings: {
      modules: {
        'anti-malware': { enabled: true, settings: { signatureSets: ['a', 'b'] } },
        'web-reputation': { enabled: true, settings: { feeds: [{ name: 'f' }] } },
      },
    },
  } as never);
  const cache = new PolicyChainCache(60_000);
  for (const [label, policyId] of [
    ['policy without artifacts', plain.id],
    ['policy naming 2 sets + 1 feed', named.id],
  ] as const) {
    const computer = { policyId, overrides: {} };
    for (let i = 0; i < 2000; i++) await effectiveConfigFor(store, computer, cache);
    const c0 = cpuMs();
    const t0 = performance.now();
    for (let i = 0; i < CALLS; i++) await effectiveConfigFor(store, computer, cache);
    const cpu = cpuMs() - c0;
    console.log(
      `heartbeat config, ${label}: ${((cpu * 1000) / CALLS).toFixed(1)} µs CPU per call (${(((performance.now() - t0) / CALLS) * 1000).toFixed(1)} µs wall), ${CALLS} calls`,
    );
  }
  await stores.close();

  // Agent side: a large set, downloaded and verified once.
  const big = Buffer.alloc(MB * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
  const sha = sha256Of(big);
  writeFileSync(join(dir, 'big.cvd'), big);
  const server = createServer((_q, r) => r.end(big));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = new ManagerClient({
    managerUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    credentials: { agentId: 'a.b', agentSecret: 'c' },
  });
  const agentCache = new ArtifactCache({ dir: join(dir, 'agent'), client: () => client, logger: silentLogger() });
  const ref = { kind: 'signature-set', name: 'big', sha256: sha, size: big.length, format: 'cvd', url: `/api/agent/v1/artifacts/${sha}` };
  const c0 = cpuMs();
  const t0 = performance.now();
  const res = await agentCache.prepare('h', { modules: { 'anti-malware': { settings: { signatureSets: [ref] } } } });
  const wall = performance.now() - t0;
  const cpu = cpuMs() - c0;
  if (res.hash !== 'h') throw new Error('download did not verify');
  client.close();
  server.close();
  const s0 = performance.now();
  execFileSync('sha256sum', [join(dir, 'big.cvd')]);
  const sumWall = performance.now() - s0;
  console.log(
    `agent download + verify of ${MB} MiB over loopback: ${wall.toFixed(0)} ms wall, ${cpu.toFixed(0)} ms CPU (includes the loopback server in this process); sha256sum of the same file: ${sumWall.toFixed(0)} ms`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
