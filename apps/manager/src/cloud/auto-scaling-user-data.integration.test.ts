import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import type { CloudInstance, Computer } from '@palisade/api-client';
import { parse } from 'yaml';
import { freePort, type ManagerProcess, runCli, startManagerProcess, waitFor } from '../../../../e2e/support/real-processes.ts';
import { buildAgentBundle } from '../../../../scripts/build-agent-bundle.ts';
import { type FakeAws, startFakeAws } from '../testing/fake-aws/fake-aws-server.ts';
import { type FakeImds, startFakeImds } from '../testing/fake-aws/instance-metadata-service.ts';

/**
 * The Auto Scaling flow without a person, with real processes: a manager process whose AWS
 * endpoint is the loopback fake, cloud sync discovering the ASG's instance, the cloud-init user
 * data `palisade deploy-script --format cloud-init` generates for the ASG executed the way
 * cloud-init would (files written, `runcmd` run as a shell script by bash) in a temporary root,
 * the agent reading the fake instance's IMDSv2, activating with the ASG-scoped token, binding to
 * the computer cloud sync made for the same instance id, and the event-based tasks giving it the
 * ASG's policy. A second instance launched by a scale-out activates before the next sync.
 */
const REGION = 'eu-west-1';
const ACCOUNT = '444455556666';
const dir = mkdtempSync(join(tmpdir(), 'palisade-asg-user-data-'));
let aws: FakeAws;
let manager: ManagerProcess;
let policyId: string;
let discoveredTaskId: string;
let activatedTaskId: string;
let accountId: string;
let userData: string;
let tokenPolicyId: string | null;
let firstInstance: string;
const imdsServers: FakeImds[] = [];

const request = <T>(method: string, path: string, body?: unknown) =>
  manager.client.request<T>(method, path, body === undefined ? {} : { body });
const instances = async () => (await manager.client.cloudInstances(accountId)).instances;
const instanceOf = async (id: string): Promise<CloudInstance | undefined> => (await instances()).find((i) => i.instanceId === id);
const auditOf = async (computerId: string) => (await manager.client.listAudit({ target: `computer:${computerId}`, limit: 100 })).entries;

/**
 * Runs `#cloud-config` user data as cloud-init does on first boot, inside `root`: `write_files`
 * (base64 content, permissions) and `runcmd` turned into one shell script run by bash. Absolute
 * paths of the user data (/run, /var/log, /dev/console) are moved under `root`.
 */
async function runUserData(text: string, root: string, env: Record<string, string>) {
  assert.ok(text.startsWith('#cloud-config\n'), 'cloud-init only takes #cloud-config as the first line');
  const doc = parse(text) as {
    write_files: { path: string; permissions: string; encoding: string; content: string }[];
    runcmd: (string | string[])[];
  };
  const moved = (s: string) =>
    s.replaceAll('/run/', `${root}/run/`).replaceAll('/var/log/', `${root}/var/log/`).replaceAll('/dev/console', `${root}/dev/console`);
  mkdirSync(join(root, 'var', 'log'), { recursive: true });
  mkdirSync(join(root, 'dev'), { recursive: true });
  for (const f of doc.write_files) {
    const path = moved(f.path);
    mkdirSync(dirname(path), { recursive: true });
    assert.equal(f.encoding, 'b64');
    writeFileSync(path, Buffer.from(f.content, 'base64'));
    chmodSync(path, Number.parseInt(f.permissions, 8));
  }
  // cloud-init writes runcmd into a script (list entries shell-quoted, strings as they are).
  const quote = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`;
  const script = `#!/bin/bash\n${doc.runcmd.map((c) => (Array.isArray(c) ? c.map((a) => quote(moved(a))).join(' ') : moved(c))).join('\n')}\n`;
  const runcmd = join(root, 'runcmd');
  writeFileSync(runcmd, script, { mode: 0o700 });
  // Not spawnSync: the fake instance metadata service answers from this process.
  const child = spawn('bash', [runcmd], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearTimeout(timer);
  const log = join(root, 'var', 'log', 'palisade-deploy.log');
  const result = join(root, 'var', 'log', 'palisade-deploy.result');
  return {
    code,
    stderr,
    log: existsSync(log) ? readFileSync(log, 'utf8') : '',
    result: existsSync(result) ? readFileSync(result, 'utf8') : '',
    scriptLeft: existsSync(moved('/run/palisade-deploy.sh')),
  };
}

/** One "instance": its IMDS, the user data run in its own root, and the agent id it printed. */
async function bootInstance(instanceId: string, name: string) {
  const imds = await startFakeImds(aws.state, { region: REGION, accountId: ACCOUNT, instanceId, instanceMetadataTags: true });
  imdsServers.push(imds);
  const root = join(dir, name);
  const r = await runUserData(userData, root, {
    PALISADE_PREFIX: join(root, 'opt', 'palisade'),
    PALISADE_DATA_DIR: join(root, 'var', 'lib', 'palisade-agent'),
    PALISADE_NO_SYSTEMD: '1',
    PALISADE_ATTEMPTS: '2',
    PALISADE_BACKOFF_SECONDS: '1',
    AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.endpoint,
  });
  assert.equal(r.code, 0, `${r.stderr}\n${r.log}`);
  assert.match(r.result, /^palisade-deploy: OK: agent \S+ installed/);
  assert.equal(r.scriptLeft, false, 'the script holds the token: deleted after the run');
  const agentId = /OK: agent (\S+) installed/.exec(r.result)![1]!;
  return { agentId, imds, root, log: r.log };
}

before(async () => {
  aws = await startFakeAws({ accountId: ACCOUNT });
  const web = aws.state.addSecurityGroup(REGION, { groupName: 'web', description: 'web', vpcId: 'vpc-web' });
  const asg = aws.state.addAutoScalingGroup(REGION, {
    name: 'web-asg',
    vpcId: 'vpc-web',
    subnetId: 'subnet-web',
    desiredCapacity: 1,
    securityGroupIds: [web.groupId],
    tags: [{ key: 'role', value: 'web' }],
  });
  firstInstance = asg.instanceIds[0]!;

  await buildAgentBundle({ outDir: join(dir, 'bundles') });
  // the manager process inherits these: it serves the bundle just built and calls the fake AWS
  process.env.PALISADE_AGENT_BUNDLE_DIR = join(dir, 'bundles');
  process.env.PALISADE_AWS_ENDPOINT = aws.endpoint;
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  const c = manager.client;
  policyId = (await c.createPolicy({ name: 'web-asg-policy' })).id;
  const when = [{ field: 'tag:aws:autoscaling:groupName', regex: '^web-asg$' }];
  discoveredTaskId = (
    await request<{ id: string }>('POST', '/api/v1/event-tasks', {
      name: 'web-asg discovered',
      trigger: 'cloud-discovered',
      conditions: when,
      actions: [{ type: 'assign-policy', policyId }],
    })
  ).id;
  // Before the next sync an agent only has the tags its user data gives it.
  activatedTaskId = (
    await request<{ id: string }>('POST', '/api/v1/event-tasks', {
      name: 'web-asg activated',
      trigger: 'agent-activated',
      conditions: [{ field: 'tag:asg', regex: '^web-asg$' }],
      actions: [{ type: 'assign-policy', policyId }],
    })
  ).id;
  accountId = (
    await c.createCloudAccount({
      name: 'prod',
      authType: 'access-keys',
      regions: [REGION],
      accessKeyId: 'AKIAASGUSERDATA00001',
      secretAccessKey: 'asg-user-data-secret-access-key-000000001',
    })
  ).id;

  const cli = await runCli(
    [
      'deploy-script',
      '--platform',
      'linux',
      '--policy',
      'web-asg-policy',
      '--cloud',
      'aws',
      '--tag',
      'asg=web-asg',
      '--token-ttl',
      '1h',
      '--format',
      'cloud-init',
      '--json',
    ],
    { PALISADE_URL: manager.url, PALISADE_API_KEY: manager.adminKey, PALISADE_CA: manager.caFile },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const parsed = JSON.parse(cli.stdout) as { script: string; token: { policyId: string | null } };
  userData = parsed.script;
  tokenPolicyId = parsed.token.policyId;
});

after(async () => {
  await manager?.proc.stop();
  for (const s of imdsServers) await s.close();
  await aws?.close();
  delete process.env.PALISADE_AGENT_BUNDLE_DIR;
  delete process.env.PALISADE_AWS_ENDPOINT;
  rmSync(dir, { recursive: true, force: true });
});

test('the ASG user data is cloud-init and carries a token scoped to the ASG’s policy and the --cloud aws activation', () => {
  assert.ok(userData.startsWith('#cloud-config\n'));
  assert.equal(tokenPolicyId, policyId);
  const doc = parse(userData) as { write_files: { content: string }[] };
  const script = Buffer.from(doc.write_files[0]!.content, 'base64').toString('utf8');
  assert.match(script, /agent activate --manager "\$MANAGER_URL" [^\n]*\\\n[^\n]* --cloud aws --tag 'asg=web-asg'/);
});

test('cloud sync makes the instance a computer before any agent, and the cloud-discovered task gives it the ASG’s policy', async () => {
  // Adding the account makes its first sync due; the job runner runs it in the background.
  // Once that sync has made the instance a computer, this one must find it known already.
  await waitFor('the first (background) sync of the new account', async () => (await instanceOf(firstInstance))?.computerId, 60_000, 200);
  const sync = await manager.client.syncCloudAccount(accountId);
  assert.equal(sync.regions[REGION]!.instances, 1);
  assert.deepEqual(sync.regions[REGION]!.discovered, []);
  const inst = (await instanceOf(firstInstance))!;
  assert.equal(inst.asgName, 'web-asg');
  const computer = await manager.client.getComputer(inst.computerId!);
  assert.equal(computer.agentVersion, '', 'no agent yet');
  assert.equal(computer.policyId, policyId, 'chosen by the task, before the token was ever used');
  assert.equal(computer.cloud?.autoScalingGroup, 'web-asg');
  const audit = await auditOf(computer.id);
  assert.ok(audit.some((e) => e.action === 'event-task.assign-policy' && e.actor === `event-task:${discoveredTaskId}`));
});

test('the user data run on that instance activates an agent that binds to the discovered computer (same instance id)', async () => {
  const discovered = (await instanceOf(firstInstance))!.computerId!;
  const boot = await bootInstance(firstInstance, 'instance-1');
  // the agent asked the instance metadata service, IMDSv2 style
  assert.deepEqual(boot.imds.requests.slice(0, 2), ['PUT /latest/api/token 200', 'GET /latest/dynamic/instance-identity/document 200']);
  assert.ok(boot.imds.requests.includes('GET /latest/meta-data/tags/instance/aws:autoscaling:groupName 200'));
  assert.equal(boot.agentId, discovered, 'the agent took over the computer cloud sync made');

  const computer: Computer = await manager.client.getComputer(discovered);
  assert.notEqual(computer.agentVersion, '');
  assert.equal(computer.policyId, policyId);
  assert.equal(computer.tags.asg, 'web-asg', 'the tag of the user data');
  assert.equal(computer.tags.role, 'web', 'the EC2 tag from cloud sync stays');
  assert.deepEqual(
    {
      provider: computer.cloud?.provider,
      accountId: computer.cloud?.accountId,
      region: computer.cloud?.region,
      instanceId: computer.cloud?.instanceId,
      autoScalingGroup: computer.cloud?.autoScalingGroup,
      vpcId: computer.cloud?.vpcId,
      subnetId: computer.cloud?.subnetId,
      securityGroups: computer.cloud?.securityGroups,
    },
    {
      provider: 'aws',
      accountId: ACCOUNT,
      region: REGION,
      instanceId: firstInstance,
      autoScalingGroup: 'web-asg',
      vpcId: 'vpc-web',
      subnetId: 'subnet-web',
      securityGroups: ['web'],
    },
  );
  const audit = await auditOf(discovered);
  assert.ok(audit.some((e) => e.action === 'computer.bind-instance'));
  const all = await manager.client.listComputers();
  assert.equal(all.computers.filter((c: Computer) => c.cloud?.instanceId === firstInstance).length, 1, 'one computer per instance');
});

test('a scale-out instance whose agent activates before the next sync gets the policy from the agent-activated task; the sync then links it', async () => {
  const asg = aws.state.region(REGION).autoScalingGroups.get('web-asg')!;
  asg.desiredCapacity = 2;
  const second = aws.state.launchInto(REGION, asg).instanceId;
  const boot = await bootInstance(second, 'instance-2');
  const computer = await manager.client.getComputer(boot.agentId);
  assert.equal(computer.cloud?.instanceId, second);
  assert.equal(computer.cloud?.autoScalingGroup, 'web-asg');
  assert.equal(computer.policyId, policyId);
  const audit = await auditOf(boot.agentId);
  assert.ok(
    audit.some((e) => e.action === 'event-task.assign-policy' && e.actor === `event-task:${activatedTaskId}`),
    'the agent-activated task ran on it',
  );

  const sync = await manager.client.syncCloudAccount(accountId);
  assert.deepEqual(sync.regions[REGION]!.discovered, [], 'no second computer for the instance');
  const linked = await waitFor('the sync to link the instance to the agent’s computer', async () => {
    const i = await instanceOf(second);
    return i?.computerId === boot.agentId && i;
  });
  assert.equal(linked.asgName, 'web-asg');
  const all = await manager.client.listComputers();
  assert.equal(all.computers.filter((c: Computer) => c.cloud?.instanceId === second).length, 1);
});
