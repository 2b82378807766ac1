import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  type AgentProcess,
  freePort,
  type ManagerProcess,
  runCli,
  startAgentProcess,
  startManagerProcess,
  waitFor,
} from '../../../../e2e/support/real-processes.ts';
import { AppControlLab, labUnavailableReason } from '../../../agent/src/modules/app-control/testing/app-control-lab.ts';

/**
 * Application control through the whole platform: a real agent in block mode (fanotify on a
 * private tmpfs) refuses an unknown binary; the drift appears at the manager; an operator allows
 * it with `palisade appcontrol drift allow`; the agent receives the new configuration and the
 * binary runs.
 */
const skip = labUnavailableReason();
if (skip) console.log(`# application control end-to-end test skipped: ${skip}`);

describe('application control: block, drift at the manager, allow, runs', { skip, timeout: 240_000 }, () => {
  let lab: AppControlLab;
  let dir: string;
  let manager: ManagerProcess;
  let agent: AgentProcess | undefined;
  let env: NodeJS.ProcessEnv;
  const cli = async (...args: string[]) => {
    const r = await runCli(['appcontrol', ...args, '--json'], env);
    assert.equal(r.code, 0, `palisade appcontrol ${args.join(' ')}: ${r.stderr}${r.stdout}`);
    return JSON.parse(r.stdout);
  };

  before(async () => {
    lab = new AppControlLab();
    dir = mkdtempSync(join(tmpdir(), 'palisade-appctl-e2e-'));
    manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
    env = { PALISADE_URL: manager.url, PALISADE_API_KEY: manager.adminKey, PALISADE_CA: manager.caFile };
  });
  after(async () => {
    await agent?.proc.stop();
    await manager?.proc.stop();
    lab?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('an unknown binary is refused, reviewed at the manager, allowed, and then runs', async () => {
    const known = lab.binary('installed-before');
    const policy = await manager.client.createPolicy({
      name: 'App control E2E',
      settings: {
        heartbeatSeconds: 1,
        modules: {
          'app-control': {
            enabled: true,
            mode: 'prevent',
            settings: { roots: [lab.mnt], marks: { mounts: [lab.mnt] }, hashThreads: 1, decisionTimeoutMs: 5000 },
          },
        },
      },
    });
    agent = await startAgentProcess(manager, join(dir, 'agent'), { policyId: policy.id });
    const agentId = agent.agentId;
    // Enforcing with a baseline: the agent's heartbeat carries the module status.
    await waitFor(
      'app-control baseline at the agent',
      async () => {
        // The API client types module status without its module-specific details.
        const st = (await manager.client.getComputer(agentId)).modules['app-control'] as
          | { state: string; details?: Record<string, unknown> }
          | undefined;
        return st?.state === 'running' && st.details?.baselineState === 'ready' && st.details?.enforcedMode === 'block-unrecognized';
      },
      120_000,
      250,
    );
    assert.equal((await lab.run(known)).code, 0, 'baseline software runs');

    const dropped = lab.binary('dropped-later');
    const sha256 = createHash('sha256').update(readFileSync(dropped)).digest('hex');
    const refused = await lab.run(dropped);
    assert.equal(refused.error, 'EPERM', JSON.stringify(refused));

    const drift = await waitFor(
      'the drift record at the manager',
      async () => {
        const r = await cli('drift', 'list', '--computer', agentId);
        return (r.drift as { id: string; path: string; sha256: string; blocked: boolean; user: { uid: number } }[]).find(
          (d) => d.path === dropped,
        );
      },
      60_000,
      500,
    );
    assert.equal(drift.sha256, sha256);
    assert.equal(drift.blocked, true);
    assert.equal(drift.user.uid, 0);
    // Fleet-wide too.
    assert.ok((await cli('drift', 'list')).drift.some((d: { id: string }) => d.id === drift.id));

    const t0 = Date.now();
    const allowed = await cli('drift', 'allow', drift.id);
    assert.equal(allowed.drift.status, 'allowed');
    assert.equal(allowed.ruleset.id, `computer:${agentId}`);
    // The agent sees the new configuration hash in its next heartbeat, fetches it, and applies it.
    await waitFor('the allowed binary to run', async () => (await lab.run(dropped)).code === 0, 60_000, 250);
    process.stdout.write(`# allow at the manager -> binary runs on the agent in ${Date.now() - t0} ms\n`);

    // Blocking it again for this computer, from the CLI with a hash: refused again.
    await cli('block', sha256, '--computer', agentId);
    await waitFor('the blocked binary to be refused', async () => (await lab.sh(dropped)).code === 126, 60_000, 250);
    const local = await cli('rulesets', 'list', '--computer', agentId);
    assert.deepEqual(
      local.rulesets[0].rules.map((r: { sha256: string; action: string }) => [r.sha256, r.action]),
      [[sha256, 'block']],
    );
  });

  test('rulesets from the command line: create, add rules, list, refuse a bad rule, delete', async () => {
    const created = await cli('rulesets', 'create', 'e2e-shared', '--name', 'E2E shared');
    assert.equal(created.scope, 'shared');
    await cli('rulesets', 'add-rule', 'e2e-shared', '--path', '/srv/drop/', '--action', 'block', '--description', 'upload folder');
    const withHash = await cli('rulesets', 'add-rule', 'e2e-shared', '--sha256', 'AB'.repeat(32), '--action', 'allow');
    assert.deepEqual(
      withHash.rules.map((r: { kind: string; action: string }) => [r.kind, r.action]),
      [
        ['path', 'block'],
        ['hash', 'allow'],
      ],
    );
    const bad = await runCli(['appcontrol', 'rulesets', 'add-rule', 'e2e-shared', '--path', 'relative', '--action', 'block'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /APPCTL_RULESET_INVALID/);
    const unknownAction = await runCli(['appcontrol', 'rulesets', 'add-rule', 'e2e-shared', '--path', '/x/', '--action', 'deny'], env);
    assert.equal(unknownAction.code, 2);
    assert.ok((await cli('rulesets', 'list', '--scope', 'shared')).rulesets.some((r: { id: string }) => r.id === 'e2e-shared'));
    assert.deepEqual(await cli('rulesets', 'delete', 'e2e-shared'), { deleted: 'e2e-shared' });
    const gone = await runCli(['appcontrol', 'rulesets', 'delete', 'e2e-shared'], env);
    assert.notEqual(gone.code, 0);
    assert.match(gone.stderr, /not found/);
  });
});
