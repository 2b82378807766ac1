import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningManager, startManager } from '@palisade/manager';
import { type FakeAws, startFakeAws } from '../../../manager/src/testing/fake-aws/fake-aws-server.ts';
import { cloudAccountFromOptions } from './cloud-accounts-commands.ts';
import { CliError } from './output.ts';
import { playbookFromOptions } from './playbooks-commands.ts';
import { runCli } from './testing/run-cli.ts';

// `palisade cloud-accounts …` and `palisade playbooks …` as real processes against a real
// manager whose AWS endpoint is the loopback fake.
const dir = mkdtempSync(join(tmpdir(), 'palisade-pb-cli-'));
let manager: RunningManager;
let aws: FakeAws;
let apiKey: string;

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['--url', manager.url, '--api-key', apiKey, ...args], { env });

async function api(method: string, path: string, body?: unknown, auth = `Bearer ${apiKey}`) {
  const res = await fetch(`${manager.url}${path}`, {
    method,
    headers: { authorization: auth, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json().catch(() => undefined)) as any };
}

before(async () => {
  aws = await startFakeAws({ accountId: '777788889999' });
  manager = await startManager({ dataDir: dir, host: '127.0.0.1', port: 0, tls: false, logLevel: 'error', awsEndpoint: aws.endpoint });
  apiKey = manager.createdAdminKey!;
});
after(async () => {
  await manager?.stop();
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('flags build the API bodies; bad flags are CLI errors', () => {
  const pb = playbookFromOptions('edge', {
    module: ['ips'],
    eventType: ['ips.blocked'],
    threshold: '3',
    window: '120',
    action: ['aws-waf-block-ip'],
    cloudAccount: 'prod',
    region: 'eu-west-1',
    ipSet: 'blocked',
    duration: '3600',
    allow: ['10.0.0.0/8'],
  });
  assert.deepEqual(pb, {
    name: 'edge',
    trigger: { filter: { modules: ['ips'], types: ['ips.blocked'] }, threshold: 3, windowSeconds: 120, groupBy: 'attacker' },
    actions: [
      {
        type: 'aws-waf-block-ip',
        cloudAccount: 'prod',
        region: 'eu-west-1',
        scope: 'REGIONAL',
        ipSetName: 'blocked',
        durationSeconds: 3600,
      },
    ],
    safeguards: { allowList: ['10.0.0.0/8'] },
  });
  assert.equal(playbookFromOptions('iso', { action: ['aws-isolate-instance'] }).trigger.groupBy, 'computer');
  assert.deepEqual(playbookFromOptions('iso', { action: ['aws-isolate-instance'] }).actions[0], {
    type: 'aws-isolate-instance',
    detachFromAutoScalingGroup: true,
    snapshot: false,
  });
  assert.deepEqual(
    playbookFromOptions('iso', { action: ['aws-isolate-instance'], noReattach: true, restoreCapacityOnUndo: true }).actions[0],
    {
      type: 'aws-isolate-instance',
      detachFromAutoScalingGroup: true,
      snapshot: false,
      reattachOnUndo: false,
      restoreDesiredCapacityOnUndo: true,
    },
  );
  assert.throws(() => playbookFromOptions('x', { action: ['aws-waf-block-ip'] }), CliError);
  assert.throws(() => playbookFromOptions('x', { action: ['nope'] }), CliError);
  assert.deepEqual(
    cloudAccountFromOptions('a', { accessKeyId: 'AKIAX', region: ['us-east-1'] }, { PALISADE_AWS_SECRET_ACCESS_KEY: 's3cret' }),
    {
      name: 'a',
      authType: 'access-keys',
      regions: ['us-east-1'],
      accessKeyId: 'AKIAX',
      secretAccessKey: 's3cret',
    },
  );
  assert.throws(() => cloudAccountFromOptions('a', {}), CliError);
});

test('cloud-accounts add/sync/instances and playbooks create/actions/undo end to end', async () => {
  const sg = aws.state.addSecurityGroup('us-east-1', { groupName: 'web', description: 'web', vpcId: 'vpc-1' });
  aws.state.addAutoScalingGroup('us-east-1', {
    name: 'web-asg',
    vpcId: 'vpc-1',
    subnetId: 'subnet-1',
    desiredCapacity: 1,
    securityGroupIds: [sg.groupId],
  });
  const ipSet = aws.state.addIpSet('us-east-1', { name: 'edge-block', scope: 'CLOUDFRONT' });

  const add = await cli(['cloud-accounts', 'add', 'prod', '--region', 'us-east-1', '--access-key-id', 'AKIACLITEST000000001', '--json'], {
    PALISADE_AWS_SECRET_ACCESS_KEY: 'cli-test-secret-access-key-0000000001',
  });
  assert.equal(add.code, 0, add.stderr);
  assert.equal(JSON.parse(add.stdout).hasSecret, true);
  assert.ok(!add.stdout.includes('cli-test-secret'));

  const sync = await cli(['cloud-accounts', 'sync', 'prod', '--json']);
  assert.equal(sync.code, 0, sync.stderr);
  // The manager's own periodic sync may have found the instance first (a new account is due at
  // once): either way the region holds one instance after this sync.
  assert.equal(JSON.parse(sync.stdout).regions['us-east-1'].instances, 1);
  const inst = await cli(['cloud-accounts', 'instances', 'prod', '--json']);
  const [instance] = JSON.parse(inst.stdout).instances;
  assert.equal(instance.asgName, 'web-asg');
  const human = await cli(['cloud-accounts', 'list']);
  assert.match(human.stdout, /prod\s+access-keys\s+777788889999\s+us-east-1/);

  const create = await cli([
    'playbooks',
    'create',
    'edge',
    '--module',
    'ips',
    '--event-type',
    'ips.*',
    '--action',
    'aws-waf-block-ip',
    '--cloud-account',
    'prod',
    '--region',
    'eu-central-1',
    '--scope',
    'CLOUDFRONT',
    '--ip-set',
    'edge-block',
    '--allow',
    '10.0.0.0/8',
    '--json',
  ]);
  assert.equal(create.code, 0, create.stderr);
  const bad = await cli([
    'playbooks',
    'create',
    'bad',
    '--action',
    'aws-waf-block-ip',
    '--cloud-account',
    'nope',
    '--region',
    'us-east-1',
    '--ip-set',
    'x',
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /PLAYBOOK_INVALID/);

  // A real agent-API client: activate, send the IPS event over HTTP.
  const token = (await api('POST', '/api/v1/activation-tokens', {})).body.token;
  const act = await api(
    'POST',
    '/api/agent/v1/activate',
    { token, host: { hostname: 'web-1', platform: 'linux', ips: ['10.0.0.5'], agentVersion: '0.1.0' } },
    '',
  );
  const agentAuth = `Agent ${act.body.agentId}:${act.body.agentSecret}`;
  const ev = {
    id: randomUUID(),
    time: new Date().toISOString(),
    module: 'ips',
    type: 'ips.blocked',
    severity: 'high',
    message: 'blocked',
    details: { clientAddress: '203.0.113.50', peerAddress: '10.0.0.2' },
  };
  assert.equal((await api('POST', '/api/agent/v1/events', { events: [ev] }, agentAuth)).status, 200);
  // Playbooks run behind the ingest answer: wait for the record, then read it as the CLI shows it.
  for (let i = 0; i < 100 && (await api('GET', '/api/v1/playbook-actions')).body.actions.length === 0; i++)
    await new Promise((r) => setTimeout(r, 50));
  const actions = JSON.parse((await cli(['playbooks', 'actions', '--playbook', 'edge', '--json'])).stdout).actions;
  assert.equal(actions.length, 1);
  assert.equal(actions[0].status, 'succeeded', JSON.stringify(actions[0]));
  assert.deepEqual(ipSet.addresses, ['203.0.113.50/32']);
  assert.equal(aws.callsOf('wafv2', 'UpdateIPSet')[0]!.region, 'us-east-1', 'CLOUDFRONT sets live in us-east-1');

  const undo = await cli(['playbooks', 'undo', actions[0].id]);
  assert.equal(undo.code, 0, undo.stderr);
  assert.match(undo.stdout, /undone/);
  assert.deepEqual(ipSet.addresses, []);

  const file = join(dir, 'pb.yaml');
  writeFileSync(
    file,
    'name: from-file\ntrigger:\n  filter: { modules: [anti-malware] }\n  groupBy: computer\nactions:\n  - type: aws-isolate-instance\n',
  );
  const fromFile = await cli(['playbooks', 'create', '--file', file, '--json']);
  assert.equal(fromFile.code, 0, fromFile.stderr);
  assert.equal(JSON.parse(fromFile.stdout).actions[0].isolationGroupName, 'palisade-isolation');
  assert.equal((await cli(['playbooks', 'disable', 'from-file'])).code, 0);
  const list = await cli(['playbooks', 'list']);
  assert.match(list.stdout, /edge\s+true/);
  assert.match(list.stdout, /from-file\s+false/);
});
