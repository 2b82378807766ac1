// `palisade firewall block --computers` end to end: the CLI asks a real manager, the manager
// queues `firewall.block`, a real agent's firewall module adds the address to its nftables
// block set inside a test network namespace, and real TCP from the blocked client stops.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { activateAgent } from '../apps/agent/src/activate-agent.ts';
import { silentLogger } from '../apps/agent/src/agent-logger.ts';
import { ModuleRegistry } from '../apps/agent/src/module-registry.ts';
import { FirewallModule } from '../apps/agent/src/modules/firewall/firewall-module.ts';
import { labUnavailableReason, NetnsLab } from '../apps/agent/src/modules/firewall/netns-lab.ts';
import { type AgentHandle, runAgent } from '../apps/agent/src/run-agent.ts';
import { freePort, type ManagerProcess, runCli, startManagerProcess, waitFor } from './support/real-processes.ts';

const skip = labUnavailableReason();

describe('firewall block through the manager', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-e2e-fw-'));
  let lab: NetnsLab;
  let manager: ManagerProcess;
  let agent: AgentHandle;
  let computerId: string;
  let cli: (args: string[]) => ReturnType<typeof runCli>;

  before(async () => {
    lab = new NetnsLab(`rb${process.pid % 100000}`);
    lab.create();
    await lab.listen(lab.server, [80], []);
    manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
    cli = (args) => runCli([...args, '--url', manager.url, '--api-key', manager.adminKey, '--ca', manager.caFile]);
    const policy = await manager.client.createPolicy({
      name: 'fw-remote',
      settings: {
        heartbeatSeconds: 1,
        modules: {
          firewall: {
            enabled: true,
            mode: 'prevent',
            settings: { policy: 'rules:\n  - { name: web, action: allow, protocol: tcp, dstPort: 80 }\n' },
          },
        },
      },
    });
    const { token } = await manager.client.createToken({ maxUses: 1, ttlSeconds: 600, policyId: policy.id });
    const agentDir = join(dir, 'agent');
    computerId = (await activateAgent({ managerUrl: manager.url, token, caFile: manager.caFile, dataDir: agentDir })).agentId;
    agent = await runAgent({
      dataDir: agentDir,
      registry: new ModuleRegistry().register(new FirewallModule({ netns: lab.server })),
      logger: silentLogger(),
      inventoryIntervalMs: 0,
      commandWaitSeconds: 5,
      senderLingerMs: 20,
    });
    await waitFor(
      'the firewall module running',
      async () => (await manager.client.getComputer(computerId)).modules.firewall?.state === 'running',
      30_000,
    );
  });

  after(async () => {
    await agent?.stop();
    manager?.proc.kill();
    lab?.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  const web = () => lab.attempt(lab.clientB, [{ proto: 'tcp', host: lab.ip.server2, port: 80 }]);

  test('block, see the traffic stop and the event arrive; unblock, see it flow again', async () => {
    assert.deepEqual(await web(), ['ok'], 'before the block');

    const blocked = await cli(['firewall', 'block', lab.ip.b, '--computers', computerId, '--for', '10m', '--reason', 'e2e', '--json']);
    assert.equal(blocked.code, 0, blocked.stderr);
    const out = JSON.parse(blocked.stdout) as { outcomes: { computerId: string; status: string; result: { seconds: number } }[] };
    assert.deepEqual(
      out.outcomes.map((o) => [o.computerId, o.status, o.result.seconds]),
      [[computerId, 'succeeded', 600]],
    );
    assert.deepEqual(await web(), ['timeout'], 'the blocked client gets no answer');

    const event = await waitFor(
      'the firewall.blocked event at the manager',
      async () => (await manager.client.listEvents({ computerId, type: 'firewall.blocked' })).events[0],
      15_000,
    );
    assert.equal(event.details?.address, lab.ip.b);
    assert.equal(event.details?.reason, 'e2e');

    const unblocked = await cli(['firewall', 'unblock', lab.ip.b, '--computers', computerId]);
    assert.equal(unblocked.code, 0, unblocked.stderr);
    assert.match(unblocked.stdout, new RegExp(`unblocked ${lab.ip.b.replaceAll('.', '\\.')} on ${computerId}`));
    assert.deepEqual(await web(), ['ok'], 'after the unblock');
  });

  test('one computer that cannot take the command fails the run with its reason; the others still apply it', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const res = await cli(['firewall', 'block', '203.0.113.9', '--computers', `${computerId},${unknown}`, '--wait', '10', '--json']);
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as { outcomes: { computerId: string; status: string; error: string | null }[] };
    assert.deepEqual(
      out.outcomes.map((o) => [o.computerId, o.status]),
      [
        [computerId, 'succeeded'],
        [unknown, 'not sent'],
      ],
    );
    assert.match(out.outcomes[1]!.error ?? '', /not found/i);
    assert.match(res.stderr, /1 of 2 computers did not apply firewall\.block/);
  });
});
