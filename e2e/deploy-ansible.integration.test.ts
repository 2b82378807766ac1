import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentBundle, buildAgentBundle } from '../scripts/build-agent-bundle.ts';
import { freePort, type ManagerProcess, repoRoot, startManagerProcess, waitFor } from './support/real-processes.ts';

/**
 * The Ansible role for real: Debian's ansible-playbook with `connection: local` against this
 * machine, the bundle built by the project, served by a real manager (HTTPS, own CA). Install
 * and activate, a second run with no change, an upgrade to a newer bundle that keeps the
 * identity, and removal that leaves nothing behind.
 */
const hasAnsible = spawnSync('ansible-playbook', ['--version']).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'palisade-ansible-'));
let bundle: AgentBundle;
let manager: ManagerProcess;
let policyId: string;
let token: string;

const prefix = join(dir, 'opt-palisade');
const dataDir = join(dir, 'var-lib-palisade-agent');
const configDir = join(dir, 'etc-palisade');

function play(vars: Record<string, unknown>) {
  const varsFile = join(dir, `vars-${Date.now()}.json`);
  writeFileSync(
    varsFile,
    JSON.stringify({
      palisade_manager_url: manager.url,
      palisade_manager_ca: readFileSync(manager.caFile, 'utf8').trim(),
      palisade_activation_token: token,
      palisade_prefix: prefix,
      palisade_data_dir: dataDir,
      palisade_config_dir: configDir,
      palisade_systemd: false,
      palisade_version: bundle.version,
      palisade_tags: { role: 'ansible-test' },
      ansible_python_interpreter: '/usr/bin/python3',
      ...vars,
    }),
  );
  const r = spawnSync('ansible-playbook', ['-i', 'localhost,', '-c', 'local', join(dir, 'play.yml'), '-e', `@${varsFile}`], {
    env: {
      ...process.env,
      ANSIBLE_ROLES_PATH: join(repoRoot, 'deploy', 'ansible', 'roles'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_LOCAL_TEMP: join(dir, 'ansible-tmp'),
      ANSIBLE_REMOTE_TEMP: join(dir, 'ansible-tmp'),
      ANSIBLE_RETRY_FILES_ENABLED: '0',
      ANSIBLE_DEPRECATION_WARNINGS: '0',
    },
    encoding: 'utf8',
    timeout: 180_000,
  });
  const recap = /localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/.exec(r.stdout);
  return { code: r.status, out: `${r.stdout}\n${r.stderr}`, changed: recap ? Number(recap[2]) : -1, failed: recap ? Number(recap[4]) : -1 };
}

before(async () => {
  if (!hasAnsible) return;
  bundle = await buildAgentBundle({ outDir: join(dir, 'bundles') });
  process.env.PALISADE_AGENT_BUNDLE_DIR = join(dir, 'bundles');
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  policyId = (await manager.client.createPolicy({ name: 'ansible', settings: { heartbeatSeconds: 2 } })).id;
  token = (await manager.client.createToken({ maxUses: 1, ttlSeconds: 900, policyId })).token;
  writeFileSync(join(dir, 'play.yml'), '- hosts: localhost\n  gather_facts: false\n  roles:\n    - palisade_agent\n');
});

after(async () => {
  await manager?.proc.stop();
  delete process.env.PALISADE_AGENT_BUNDLE_DIR;
  rmSync(dir, { recursive: true, force: true });
});

test('the role installs and activates, changes nothing on a second run, upgrades, and removes cleanly', {
  skip: !hasAnsible && 'ansible-playbook is not installed (Debian package ansible)',
}, async () => {
  const first = play({});
  assert.equal(first.code, 0, first.out);
  assert.ok(first.changed > 0, first.out);
  assert.equal(readFileSync(join(prefix, 'VERSION'), 'utf8').trim(), bundle.version);
  const identity = JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as { agentId: string };
  // waitFor retries: after a playbook run longer than the server's keep-alive timeout, the
  // client's pooled connection may have been closed under it
  const computer = await waitFor('the activated computer at the manager', () => manager.client.getComputer(identity.agentId));
  assert.equal(computer.policyId, policyId);
  assert.equal(computer.tags.role, 'ansible-test');

  const second = play({});
  assert.equal(second.code, 0, second.out);
  assert.equal(second.changed, 0, `second run changed something:\n${second.out}`);

  // a newer bundle on the manager: the role upgrades in place and keeps the identity
  const newer = await buildAgentBundle({ outDir: join(dir, 'bundles'), version: '99.0.0' });
  const upgrade = play({ palisade_version: newer.version });
  assert.equal(upgrade.code, 0, upgrade.out);
  assert.ok(upgrade.changed > 0);
  assert.equal(readFileSync(join(prefix, 'VERSION'), 'utf8').trim(), '99.0.0');
  assert.equal((JSON.parse(readFileSync(join(dataDir, 'agent.json'), 'utf8')) as { agentId: string }).agentId, identity.agentId);
  const version = spawnSync(join(prefix, 'bin', 'palisade'), ['--version'], { encoding: 'utf8' });
  assert.equal(version.stdout.trim(), '99.0.0');

  const remove = play({ palisade_state: 'absent', palisade_purge: true });
  assert.equal(remove.code, 0, remove.out);
  for (const p of [prefix, dataDir, configDir]) assert.ok(!existsSync(p), `${p} removed`);
});
