import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { integrityPolicy, type ManagerWithAgent, startManagerWithAgent } from './support/manager-with-agent.ts';
import { type AgentProcess, type ManagerProcess, runCli, waitFor } from './support/real-processes.ts';

/**
 * Integrity text diffs and baseline commands through the whole platform: a real manager, a real
 * agent process, a policy with `reportChanges` on a sshd_config-like file in a temp tree. The
 * change event read back from the manager's events API carries the redacted diff; the CLI
 * (`palisade fim rebuild-baseline|scan|accept|status`) drives the agent through the manager.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-diff-e2e-'));
const tree = join(dir, 'etc');
const agentDir = join(dir, 'agent');
let manager: ManagerProcess;
let agent: AgentProcess;
let cli: (args: string[]) => ReturnType<typeof runCli>;

mkdirSync(join(tree, 'ssh'), { recursive: true });
mkdirSync(join(tree, 'app'), { recursive: true });
const SSHD = ['Port 22', 'PermitRootLogin no', 'PasswordAuthentication no', '# ldap bind', 'LdapBindPassword s3cr3t-before', ''].join('\n');
writeFileSync(join(tree, 'ssh', 'sshd_config'), SSHD);
writeFileSync(join(tree, 'app', 'app.conf'), 'workers = 4\n');

const RULES = `version: 1
rules:
  - id: e2e-ssh
    paths: [${tree}/ssh]
    severity: high
    realtime: true
    reportChanges: [sshd_config]
  - id: e2e-app
    paths: [${tree}/app]
    severity: medium
    reportChanges: true
`;

type Events = Awaited<ReturnType<ManagerProcess['client']['listEvents']>>['events'];
async function integrityEvents(): Promise<Events> {
  return (await manager.client.listEvents({ computerId: agent.agentId, module: 'integrity', limit: 200 })).events;
}

let setup: ManagerWithAgent | undefined;
before(async () => {
  setup = await startManagerWithAgent({
    dir,
    agentDir,
    policy: integrityPolicy('Integrity diff E2E', RULES),
  });
  ({ manager, agent, cli } = setup);
});

after(async () => {
  await setup?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

test('a changed sshd_config reaches the manager with a redacted diff; rebuild-baseline, scan, accept and status through the CLI', async () => {
  await waitFor(
    'integrity baseline event',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.baseline'),
    60_000,
    250,
  );

  // 1. Real-time change of the sshd_config-like file: the event at the manager carries the diff.
  writeFileSync(
    join(tree, 'ssh', 'sshd_config'),
    SSHD.replace('PermitRootLogin no', 'PermitRootLogin yes').replace('s3cr3t-before', 's3cr3t-after'),
  );
  const updated = await waitFor(
    'sshd_config event with a diff at the manager',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.updated' && e.details?.key === `${tree}/ssh/sshd_config`),
    15_000,
    200,
  );
  const diff = updated.details?.contentDiff as { status: string; diff: string; added: number; removed: number; redacted: number };
  assert.equal(diff.status, 'diff');
  assert.ok(diff.diff.includes('-PermitRootLogin no\n+PermitRootLogin yes\n'), diff.diff);
  assert.ok(diff.diff.includes('-LdapBindPassword [redacted#1]\n+LdapBindPassword [redacted#2]\n'), diff.diff);
  assert.equal(diff.added, 2);
  assert.equal(diff.removed, 2);
  const all = JSON.stringify(await integrityEvents());
  assert.ok(!all.includes('s3cr3t'), 'no secret reached the manager');

  // 2. Status through the API (heartbeat) and the CLI: the baseline summary and the pending change.
  const summary = await waitFor(
    'baseline summary with the pending change at the manager',
    async () => {
      const c = await manager.client.getComputer(agent.agentId);
      const b = (c.modules.integrity as { details?: { baseline?: { pendingChanges: number } } } | undefined)?.details?.baseline;
      return b && b.pendingChanges >= 1 ? (b as Record<string, any>) : undefined;
    },
    20_000,
    250,
  );
  assert.equal(summary.counts.byRule['e2e-ssh'], 2);
  assert.equal(summary.counts.byRule['e2e-app'], 2);
  assert.ok(summary.builtAt && summary.lastFullScan.filesPerSecond >= 0);
  assert.equal(summary.contentCopies.files, 2);
  const statusText = await cli(['fim', 'status', '--computer', agent.agentId]);
  assert.equal(statusText.code, 0, statusText.stderr);
  assert.match(statusText.stdout, /baseline: 4 entities/);
  assert.match(statusText.stdout, /pending changes: [1-9]/);
  const statusJson = JSON.parse((await cli(['fim', 'status', '--computer', agent.agentId, '--json'])).stdout);
  assert.equal(statusJson.integrity.state, 'running');

  // 3. A change to a file without real-time watch, then rebuild-baseline: absorbed without an
  // event, and the next scan (on command) reports no change.
  writeFileSync(join(tree, 'app', 'app.conf'), 'workers = 64\n');
  const before = (await integrityEvents()).length;
  const rebuilt = await cli(['fim', 'rebuild-baseline', '--computers', agent.agentId, '--json']);
  assert.equal(rebuilt.code, 0, rebuilt.stderr + rebuilt.stdout);
  const rb = JSON.parse(rebuilt.stdout);
  assert.equal(rb.outcomes[0].status, 'succeeded');
  assert.ok(rb.outcomes[0].result.pendingCleared >= 1);
  const scan = await cli(['fim', 'scan', '--computers', agent.agentId, '--json']);
  assert.equal(scan.code, 0, `no change, exit 0: ${scan.stderr}${scan.stdout}`);
  assert.equal(JSON.parse(scan.stdout).outcomes[0].result.changes, 0);
  // Events travel through the agent's spool: wait for the rebuild's own event, then check that
  // the absorbed change was never reported.
  await waitFor(
    'the rebuilt-baseline event at the manager',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.baseline' && e.details?.rebuilt === true),
    20_000,
    200,
  );
  const afterRebuild = await integrityEvents();
  assert.equal(afterRebuild.length, before + 1, 'the rebuild reported no change, only the new baseline');
  assert.ok(!afterRebuild.some((e) => e.details?.key === `${tree}/app/app.conf`), 'the absorbed change was never reported');

  // 4. A change found by a scan command (exit 4), then accepted by its event id alone.
  writeFileSync(join(tree, 'app', 'app.conf'), 'workers = 8\npassword = hunter2\n');
  const found = await cli(['fim', 'scan', '--computers', agent.agentId]);
  assert.equal(found.code, 4, found.stderr + found.stdout);
  assert.match(found.stdout, /1 changes/);
  const appEvent = await waitFor(
    'app.conf event',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.updated' && e.details?.key === `${tree}/app/app.conf`),
    20_000,
    200,
  );
  const appDiff = (appEvent.details?.contentDiff as { diff: string }).diff;
  assert.ok(appDiff.includes('-workers = 64\n+workers = 8\n+password = [redacted#1]\n'), appDiff);
  const accepted = await cli(['fim', 'accept', '--event', appEvent.id, '--json']);
  assert.equal(accepted.code, 0, accepted.stderr + accepted.stdout);
  const acc = JSON.parse(accepted.stdout).outcomes[0];
  assert.equal(acc.computerId, agent.agentId);
  assert.equal(acc.result.accepted, 1);
  assert.equal(acc.result.pendingRemoved, 1);
  assert.equal(acc.result.pendingChanges, 0);
  await waitFor(
    'integrity.accepted event',
    async () => (await integrityEvents()).find((e) => e.type === 'integrity.accepted'),
    20_000,
    200,
  );
  await waitFor(
    'summary without pending changes',
    async () => {
      const c = await manager.client.getComputer(agent.agentId);
      const b = (c.modules.integrity as { details?: { baseline?: { pendingChanges: number } } }).details?.baseline;
      return b?.pendingChanges === 0 ? true : undefined;
    },
    20_000,
    250,
  );
});
