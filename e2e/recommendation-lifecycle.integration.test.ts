import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { type AgentProcess, freePort, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';
import { statusThroughProxy } from './support/status-through-proxy.ts';

/**
 * Virtual patching end to end with real processes: the manager asks a real agent for the
 * inventory of an application folder; a war with a vulnerable struts2-core gets the shipped
 * CVE-2017-5638 patch assigned automatically, and the agent's IPS proxy in front of a real
 * upstream then blocks the exploit; after the jar is upgraded, the next inventory removes the
 * patch and the same request passes again. Both changes are audited with reasons.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-reclife-'));
const appRoot = join(dir, 'host');
let manager: ManagerProcess;
let agent: AgentProcess;
let upstream: Server;
let proxyPort: number;
const reachedUpstream: string[] = [];
const repoRoot = new URL('..', import.meta.url).pathname;
const exploit = JSON.parse(readFileSync(join(repoRoot, 'rules/ips/CVE-2017-5638/tests/exploit.jsonl'), 'utf8').split('\n')[0]!) as {
  method: string;
  uri: string;
  headers: Record<string, string>;
  body: string;
};

/** Sends the replay request through the agent's proxy; resolves with the status code. */
const sendThroughProxy = (r: typeof exploit) =>
  statusThroughProxy(proxyPort, { method: r.method, path: r.uri, headers: { ...r.headers, host: 'shop.test' }, body: r.body });

const ipsRunning = async () => (await manager.client.getComputer(agent.agentId)).modules.ips?.state === 'running';

/** A war holding one jar that carries Maven coordinates, as a build tool would write them. */
function writeWar(strutsVersion: string): void {
  const jar = zipSync({
    'META-INF/MANIFEST.MF': strToU8('Manifest-Version: 1.0\n'),
    'META-INF/maven/org.apache.struts/struts2-core/pom.properties': strToU8(
      `groupId=org.apache.struts\nartifactId=struts2-core\nversion=${strutsVersion}\n`,
    ),
  });
  const war = zipSync({ 'WEB-INF/web.xml': strToU8('<web-app/>'), [`WEB-INF/lib/struts2-core-${strutsVersion}.jar`]: jar });
  mkdirSync(join(appRoot, 'opt/shop'), { recursive: true });
  writeFileSync(join(appRoot, 'opt/shop/shop.war'), war);
}

async function sendInventory(): Promise<void> {
  const cmd = await manager.client.sendCommand(agent.agentId, { kind: 'send-inventory', args: { root: appRoot, appDirs: ['opt'] } });
  const done = await waitFor(
    'send-inventory result',
    async () => {
      const c = await manager.client.getCommand(cmd.id);
      return c.status === 'succeeded' || c.status === 'failed' ? c : undefined;
    },
    30_000,
    200,
  );
  assert.equal(done.status, 'succeeded', String(done.error));
}

const assignedRules = async () => {
  const cfg = await manager.client.effectiveConfig(agent.agentId);
  return ((cfg.config as { modules: Record<string, { settings: { assignedRules?: string[] } }> }).modules.ips?.settings.assignedRules ??
    []) as string[];
};

let setup: ManagerWithAgent | undefined;
before(async () => {
  upstream = createServer((req, res) => {
    reachedUpstream.push(`${req.method} ${req.url}`);
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  proxyPort = await freePort();
  // IPS in prevent mode in front of the upstream, with no patch selected by the policy: the
  // host gets exactly the patches its recommendation scans assign. One custom rule keeps the
  // rule set non-empty before any assignment.
  const ips = {
    enabled: true,
    mode: 'prevent' as const,
    settings: {
      services: [
        {
          name: 'shop',
          listen: { host: '127.0.0.1', port: proxyPort },
          upstream: { host: '127.0.0.1', port: (upstream.address() as { port: number }).port },
        },
      ],
      ruleSets: {
        seclang: [
          { name: 'canary', text: 'SecRuleEngine On\nSecRule REQUEST_URI "@streq /palisade-canary" "id:9599990,phase:1,deny,status:403"' },
        ],
      },
    },
  };
  setup = await startManagerWithAgent({
    dir,
    policy: {
      name: 'Java apps',
      settings: { heartbeatSeconds: 2, recommendations: 'auto', modules: { ips } },
    },
  });
  ({ manager, agent } = setup);
});
after(async () => {
  upstream?.close();
  await setup?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('before any assignment the exploit reaches the service (nothing shields it yet)', async () => {
  await waitFor('the IPS proxy running', ipsRunning, 30_000, 500);
  assert.equal(await sendThroughProxy(exploit), 200);
  assert.ok(reachedUpstream.includes(`${exploit.method} ${exploit.uri}`));
});

test('a vulnerable struts2-core gets the CVE-2017-5638 patch; the agent runs a config that carries it', async () => {
  writeWar('2.3.31');
  await sendInventory();
  await waitFor('the patch assigned', async () => (await assignedRules()).includes('CVE-2017-5638'), 30_000, 500);
  const { hash } = await manager.client.effectiveConfig(agent.agentId);
  await waitFor(
    'the agent applies the new config',
    async () => (await manager.client.getComputer(agent.agentId)).configHash === hash,
    20_000,
    500,
  );
  const audit = await manager.client.request<{
    entries: Array<{ details: { ruleId: string; reasons: Array<{ package: string; version: string; location: string }> } }>;
  }>('GET', '/api/v1/audit', { query: { action: 'rule.assign' } });
  const entry = audit.entries.find((e) => e.details.ruleId === 'CVE-2017-5638')!;
  assert.equal(entry.details.reasons[0]!.version, '2.3.31');
  assert.match(entry.details.reasons[0]!.location, /shop\.war!WEB-INF\/lib\/struts2-core-2\.3\.31\.jar$/);
});

test('the assigned patch blocks the exploit before it reaches the service', async () => {
  await waitFor('the IPS proxy running with the patch', ipsRunning, 30_000, 500);
  reachedUpstream.length = 0;
  assert.equal(await sendThroughProxy(exploit), 403);
  assert.deepEqual(reachedUpstream, [], 'the exploit never reached the upstream');
  assert.equal(await sendThroughProxy({ method: 'GET', uri: '/orders/list.action', headers: {}, body: '' }), 200);
});

test('after the upgrade the next inventory removes the patch, audited with versions before and after', async () => {
  rmSync(join(appRoot, 'opt/shop/shop.war'));
  writeWar('2.3.32');
  await sendInventory();
  await waitFor('the patch removed', async () => !(await assignedRules()).includes('CVE-2017-5638'), 30_000, 500);
  const audit = await manager.client.request<{
    entries: Array<{ details: { ruleId: string; packages: Array<{ versionBefore: string }> } }>;
  }>('GET', '/api/v1/audit', { query: { action: 'rule.unassign' } });
  const entry = audit.entries.find((e) => e.details.ruleId === 'CVE-2017-5638')!;
  assert.equal(entry.details.packages[0]!.versionBefore, '2.3.31');
  // The patch is gone from the host too: once the agent runs the new config, the same request
  // reaches the service again (the Struts patches still assigned, S2-057 and S2-066, do not
  // match this payload).
  assert.ok((await assignedRules()).includes('CVE-2018-11776'), '2.3.32 is still affected by S2-057');
  const { hash } = await manager.client.effectiveConfig(agent.agentId);
  await waitFor(
    'the agent applies the config without the patch',
    async () => (await manager.client.getComputer(agent.agentId)).configHash === hash,
    20_000,
    500,
  );
  await waitFor('the IPS proxy running', ipsRunning, 30_000, 500);
  reachedUpstream.length = 0;
  assert.equal(await sendThroughProxy(exploit), 200);
  assert.deepEqual(reachedUpstream, [`${exploit.method} ${exploit.uri}`]);
});
