import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import {
  type AgentProcess,
  freePort,
  type ManagerProcess,
  startAgentProcess,
  startManagerProcess,
  waitFor,
} from './support/real-processes.ts';

/**
 * Virtual patching end to end with real processes: the manager asks a real agent for the
 * inventory of an application folder; a war with a vulnerable struts2-core gets the shipped
 * CVE-2017-5638 patch assigned automatically and delivered in the agent's configuration; after
 * the jar is upgraded, the next inventory removes it. Both changes are audited with reasons.
 * (That the IPS module then blocks the exploit is covered by the IPS module's own tests.)
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-reclife-'));
const appRoot = join(dir, 'host');
let manager: ManagerProcess;
let agent: AgentProcess;

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

before(async () => {
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  const policy = await manager.client.createPolicy({ name: 'Java apps', settings: { heartbeatSeconds: 2, recommendations: 'auto' } });
  agent = await startAgentProcess(manager, join(dir, 'agent'), { policyId: policy.id });
});
after(async () => {
  await agent?.proc.stop();
  await manager?.proc.stop();
  rmSync(dir, { recursive: true, force: true });
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
});
