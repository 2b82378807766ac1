import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  type AgentProcess,
  freePort,
  type ManagerProcess,
  runCli,
  startAgentProcess,
  startManagerProcess,
  waitFor,
} from './support/real-processes.ts';

/**
 * The platform end to end, with real processes: one manager (HTTPS, SQLite) and two agents.
 * Activation, heartbeats, a policy change reaching both agents within two heartbeats, a command
 * reaching an agent within 2 s, and test events queryable through the API.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-e2e-'));
let manager: ManagerProcess;
let agents: AgentProcess[] = [];
let policyId: string;
const HEARTBEAT_S = 2;

before(async () => {
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  policyId = (await manager.client.createPolicy({ name: 'E2E', settings: { heartbeatSeconds: HEARTBEAT_S } })).id;
  agents = await Promise.all([1, 2].map((i) => startAgentProcess(manager, join(dir, `agent-${i}`), { policyId })));
});

after(async () => {
  await Promise.all(agents.map((a) => a.proc.stop()));
  await manager?.proc.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('both agents activate, heartbeat and run the configuration of their policy', async () => {
  const effective = await manager.client.policyEffective(policyId);
  for (const a of agents) {
    const c = await waitFor(`agent ${a.agentId} online with the policy's config`, async () => {
      const c = await manager.client.getComputer(a.agentId);
      return c.status === 'online' && c.configHash === effective.hash ? c : undefined;
    });
    assert.equal(c.policyId, policyId);
  }
});

test('a policy change reaches both agents within two heartbeats', async () => {
  const changedAt = Date.now();
  await manager.client.updatePolicy(policyId, { settings: { heartbeatSeconds: HEARTBEAT_S, spool: { maxBytes: 32 * 1024 * 1024 } } });
  const { hash } = await manager.client.policyEffective(policyId);
  await Promise.all(
    agents.map((a) =>
      waitFor(`agent ${a.agentId} applies ${hash}`, async () => (await manager.client.getComputer(a.agentId)).configHash === hash, 20_000),
    ),
  );
  const elapsed = (Date.now() - changedAt) / 1000;
  // The agent fetches on the first heartbeat after the change and reports on the next one.
  assert.ok(elapsed <= 2 * HEARTBEAT_S + 1, `took ${elapsed.toFixed(1)} s for a ${HEARTBEAT_S} s heartbeat`);
});

test('a command reaches an online agent within 2 seconds', async () => {
  await new Promise((r) => setTimeout(r, 500)); // let the long-poll settle in its wait
  for (const a of agents) {
    const sentAt = Date.now();
    const cmd = await manager.client.sendCommand(a.agentId, { kind: 'ping' });
    const done = await waitFor(
      'ping result',
      async () => {
        const c = await manager.client.getCommand(cmd.id);
        return c.status === 'succeeded' || c.status === 'failed' ? c : undefined;
      },
      10_000,
      50,
    );
    const elapsed = Date.now() - sentAt;
    assert.equal(done.status, 'succeeded');
    assert.ok(elapsed < 2000, `ping round trip took ${elapsed} ms`);
  }
});

test('test-events from the control socket are stored and queryable through the API', async () => {
  const a = agents[0]!;
  const res = await runCli(['agent', 'test-events', '--count', '300', '--rate', '1000', '--data-dir', a.dataDir, '--json']);
  assert.equal(res.code, 0, res.stderr);
  const count = async () => {
    let n = 0;
    let cursor: string | undefined;
    do {
      const page = await manager.client.listEvents({
        computerId: a.agentId,
        module: 'system',
        type: 'test',
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      n += page.events.length;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return n;
  };
  await waitFor('300 test events stored', async () => (await count()) === 300, 30_000, 250);
  const cli = await runCli([
    '--url',
    manager.url,
    '--api-key',
    manager.adminKey,
    '--ca',
    manager.caFile,
    '--json',
    'events',
    'list',
    '--computer',
    a.agentId,
    '--limit',
    '5',
  ]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.equal(JSON.parse(cli.stdout).events.length, 5);
});
