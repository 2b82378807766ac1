import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ArtifactClient } from '@palisade/api-client';
import { nodeTransport } from '@palisade/api-client/node';
import Database from 'better-sqlite3';
import { getAgentStatus } from '../apps/agent/src/control-client.ts';
import { type AgentProcess, freePort, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';
import { statusThroughProxy } from './support/status-through-proxy.ts';

/**
 * Signature sets and feeds from the manager (#8, #11), through a real manager and a real agent:
 * a custom ndb signature uploaded to the manager and named by the policy quarantines a matching
 * file; a feed uploaded and named by the policy changes the proxy's verdict, and a new version
 * changes it again; a stored set whose bytes no longer match its hash is refused by the agent,
 * the previous set stays in force, and the status says why.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-e2e-artifacts-'));
const watched = join(dir, 'uploads');
const agentDir = join(dir, 'agent');
const hex = (s: string) => Buffer.from(s).toString('hex');
const MARK_1 = 'PALISADE-DISTRIBUTION-MARKER-ONE';
const MARK_2 = 'PALISADE-DISTRIBUTION-MARKER-TWO';
const SET_1 = `Palisade.Dist.One:0:*:${hex(MARK_1)}\n`;
const SET_2 = `${SET_1}Palisade.Dist.Two:0:*:${hex(MARK_2)}\n`;
let manager: ManagerProcess;
let agent: AgentProcess;
let artifacts: ArtifactClient;
let site: Server;
let sitePort = 0;
let proxyPort = 0;

let setup: ManagerWithAgent | undefined;
before(async () => {
  mkdirSync(watched, { recursive: true });
  site = http.createServer((_q, s) => s.end('site ok'));
  await new Promise<void>((r) => site.listen(0, '127.0.0.1', r));
  sitePort = (site.address() as AddressInfo).port;
  proxyPort = await freePort();
  setup = await startManagerWithAgent({
    dir,
    agentDir,
    policy: async (m) => {
      manager = m;
      artifacts = new ArtifactClient({
        url: manager.url,
        apiKey: manager.adminKey,
        transport: nodeTransport(readFileSync(manager.caFile, 'utf8')),
      });
      await artifacts.upload('signature-set', 'custom', Buffer.from(SET_1), { format: 'ndb' });
      await artifacts.upload('webrep-feed', 'blocklist', Buffer.from('# palisade: risk=dangerous category=malware\nfirst.example\n'));
      return {
        name: 'distributed',
        settings: {
          heartbeatSeconds: 1,
          modules: {
            'anti-malware': {
              enabled: true,
              mode: 'prevent',
              settings: { signatureSets: ['custom'], action: 'quarantine', realTime: { paths: [watched], settleMs: 50 } },
            },
            'web-reputation': {
              enabled: true,
              mode: 'prevent',
              settings: {
                feeds: [{ name: 'blocklist' }],
                reloadSeconds: 1,
                proxy: { listen: { host: '127.0.0.1', port: proxyPort } },
                hosts: { 'first.example': '127.0.0.1', 'second.example': '127.0.0.1' },
              },
            },
          },
        },
      };
    },
  });
  ({ manager, agent } = setup);
  await waitFor(
    'both modules running',
    async () => {
      const m = (await getAgentStatus({ dataDir: agentDir })).modules;
      return m['anti-malware']?.state === 'running' && m['web-reputation']?.state === 'running';
    },
    60_000,
    200,
  );
});

after(async () => {
  await setup?.cleanup();
  site?.close();
  rmSync(dir, { recursive: true, force: true });
});

const viaProxy = (host: string) => statusThroughProxy(proxyPort, { path: `http://${host}:${sitePort}/x`, headers: { host } });

async function quarantined(name: string, content: string): Promise<void> {
  const path = join(watched, name);
  writeFileSync(path, `header ${content} trailer\n`);
  await waitFor(`${name} to be quarantined`, () => !existsSync(path), 30_000, 50);
}

test('a custom signature uploaded to the manager quarantines a matching file, and the detection reaches the manager', async () => {
  await quarantined('one.bin', MARK_1);
  const ev = await waitFor(
    'the detection at the manager',
    async () =>
      (await manager.client.listEvents({ computerId: agent.agentId, module: 'anti-malware', limit: 20 })).events.find(
        (e) => e.type === 'anti-malware.detection' && e.ruleId === 'Palisade.Dist.One',
      ),
    30_000,
    250,
  );
  assert.equal(ev.details?.action, 'quarantined');
  // The bundled set is not in use: only what the policy names.
  writeFileSync(join(watched, 'two.bin'), `x ${MARK_2} y\n`);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(existsSync(join(watched, 'two.bin')), 'marker two is not in the set yet');
  rmSync(join(watched, 'two.bin'));
});

test('a feed uploaded to the manager decides the proxy verdict; a new version changes it', async () => {
  assert.equal(await viaProxy('first.example'), 403);
  assert.equal(await viaProxy('second.example'), 200);
  await artifacts.upload('webrep-feed', 'blocklist', Buffer.from('# palisade: risk=dangerous\nsecond.example\n'));
  await waitFor('the new feed version in force', async () => (await viaProxy('second.example')) === 403, 30_000, 250);
  assert.equal(await viaProxy('first.example'), 200, 'the old version is gone');
});

test('a stored set whose bytes do not match its hash is refused; the previous set stays and the status says why', async () => {
  // Damage the row directly: the manager announces SET_2's hash but serves other bytes.
  const file = readdirSync(join(manager.dataDir, 'tenants')).find((f) => f.endsWith('.sqlite'))!;
  const db = new Database(join(manager.dataDir, 'tenants', file));
  try {
    const sha2 = createHash('sha256').update(SET_2).digest('hex');
    const tampered = Buffer.from(SET_2.replace('Palisade.Dist.Two', 'Palisade.Dist.Bad'));
    db.prepare(
      "UPDATE artifacts SET sha256 = ?, size = ?, bytes = ?, version = version + 1 WHERE kind = 'signature-set' AND name = 'custom'",
    ).run(sha2, Buffer.byteLength(SET_2), tampered);
  } finally {
    db.close();
  }
  const status = await waitFor(
    'the refusal in the agent status',
    async () => {
      const s = (await getAgentStatus({ dataDir: agentDir })).modules['anti-malware'];
      return s?.reason?.includes('sha256') ? s : undefined;
    },
    30_000,
    200,
  );
  assert.equal(status.state, 'running');
  assert.match(
    status.reason!,
    /signature set custom: downloaded content has sha256 \w+ .* refused; the previous version \(\w+\) stays in force/,
  );
  assert.equal((status.details as { degraded?: boolean }).degraded, true);
  const atManager = await waitFor(
    'the refusal at the manager',
    async () => {
      const c = await manager.client.getComputer(agent.agentId);
      return c.modules['anti-malware']?.reason?.includes('sha256') ? c : undefined;
    },
    30_000,
    250,
  );
  assert.match((atManager as { configHash?: string }).configHash ?? '', /\+artifacts-pending$/);
  // The previous set is still scanning: marker one is caught, the tampered "two" never loaded.
  await quarantined('again.bin', MARK_1);
  writeFileSync(join(watched, 'two-again.bin'), `x ${MARK_2} y\n`);
  await new Promise((r) => setTimeout(r, 500));
  assert.ok(existsSync(join(watched, 'two-again.bin')));
});
