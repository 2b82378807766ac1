import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { activateAgent } from '../apps/agent/src/activate-agent.ts';
import { getAgentStatus } from '../apps/agent/src/control-client.ts';
import { sendRaw, serializeRequest } from '../apps/agent/src/modules/ips/raw-http-client.ts';
import { type FakeAws, startFakeAws } from '../apps/manager/src/testing/fake-aws/fake-aws-server.ts';
import { CliProcess, freePort, type ManagerProcess, startManagerProcess, waitFor } from './support/real-processes.ts';

/**
 * Both reference flows of the response playbooks with real processes: a real manager whose AWS
 * endpoint is the loopback fake (real SDK clients, real wire protocols), and a real agent on an
 * "EC2 instance" (a loopback metadata service names it) of an Auto Scaling group. (1) Its IPS
 * proxy blocks an exploit that came through a load balancer -> the left-most untrusted
 * X-Forwarded-For address lands in the WAF IP set. (2) Its anti-malware module quarantines
 * EICAR -> the instance is isolated and detached with replacement. Both are undone.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-pb-e2e-'));
const agentDir = join(dir, 'agent');
const watched = join(dir, 'www');
const EICAR = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'].join('');
const ACCOUNT = '555566667777';
let aws: FakeAws;
let manager: ManagerProcess;
let agent: CliProcess;
let agentId: string;
let upstream: http.Server;
let imds: http.Server;
let proxyPort = 0;
let instanceId: string;
let webGroup: string;

before(async () => {
  mkdirSync(watched, { recursive: true });
  aws = await startFakeAws({ accountId: ACCOUNT });
  webGroup = aws.state.addSecurityGroup('eu-west-1', { groupName: 'web', description: 'web', vpcId: 'vpc-e2e' }).groupId;
  instanceId = aws.state.addAutoScalingGroup('eu-west-1', {
    name: 'shop-asg',
    vpcId: 'vpc-e2e',
    subnetId: 'subnet-e2e',
    desiredCapacity: 2,
    securityGroupIds: [webGroup],
  }).instanceIds[0]!;
  aws.state.addIpSet('eu-west-1', { name: 'edge-block', scope: 'REGIONAL' });

  // The instance's metadata service (IMDSv2), as the agent reads it.
  const TOKEN = 'imds-e2e-token';
  const meta: Record<string, string> = {
    '/latest/dynamic/instance-identity/document': JSON.stringify({
      accountId: ACCOUNT,
      region: 'eu-west-1',
      instanceId,
      imageId: 'ami-0123456789abcdef0',
    }),
    '/latest/meta-data/instance-id': instanceId,
    '/latest/meta-data/security-groups': 'web',
    '/latest/meta-data/tags/instance/aws:autoscaling:groupName': 'shop-asg',
  };
  imds = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end(TOKEN);
    if (req.headers['x-aws-ec2-metadata-token'] !== TOKEN) return void res.writeHead(401).end();
    const body = meta[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.end(body);
  });
  await new Promise<void>((r) => imds.listen(0, '127.0.0.1', () => r()));
  upstream = http.createServer((req, res) => {
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  proxyPort = await freePort();

  // The manager process inherits the endpoint: every AWS call it makes goes to the fake.
  process.env.PALISADE_AWS_ENDPOINT = aws.endpoint;
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  const c = manager.client;
  await c.createCloudAccount({
    name: 'prod',
    authType: 'access-keys',
    regions: ['eu-west-1'],
    accessKeyId: 'AKIAE2ETESTKEY000001',
    secretAccessKey: 'e2e-secret-access-key-000000000000000001',
  });
  const sync = await c.syncCloudAccount('prod');
  assert.ok(sync.regions['eu-west-1']!.discovered.includes(instanceId));
  await c.createPlaybook({
    name: 'edge-block',
    trigger: { filter: { modules: ['ips'], types: ['ips.blocked'] }, threshold: 1, windowSeconds: 60 },
    actions: [
      {
        type: 'aws-waf-block-ip',
        cloudAccount: 'prod',
        region: 'eu-west-1',
        scope: 'REGIONAL',
        ipSetName: 'edge-block',
        durationSeconds: 3600,
      },
    ],
    safeguards: { allowList: ['127.0.0.0/8'] },
  });
  await c.createPlaybook({
    name: 'isolate',
    trigger: { filter: { modules: ['anti-malware'], types: ['anti-malware.detection'] }, groupBy: 'computer' },
    actions: [{ type: 'aws-isolate-instance', detachFromAutoScalingGroup: true }],
  });
  const policyId = (
    await c.createPolicy({
      name: 'shop',
      settings: {
        heartbeatSeconds: 2,
        modules: {
          ips: {
            enabled: true,
            mode: 'prevent',
            settings: {
              services: [
                {
                  name: 'shop',
                  listen: { host: '127.0.0.1', port: proxyPort },
                  upstream: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
                },
              ],
              ruleSets: { patches: { only: ['CVE-2020-5902'] } },
              trustedProxies: ['127.0.0.0/8'],
            },
          },
          'anti-malware': {
            enabled: true,
            mode: 'prevent',
            settings: { action: 'quarantine', realTime: { paths: [watched], settleMs: 100 } },
          },
        },
      },
    })
  ).id;
  const { token } = await c.createToken({ maxUses: 1, ttlSeconds: 600, policyId });
  const outcome = await activateAgent({
    managerUrl: manager.url,
    token,
    caFile: manager.caFile,
    dataDir: agentDir,
    cloud: 'aws',
    cloudMetadataUrl: `http://127.0.0.1:${(imds.address() as AddressInfo).port}`,
  });
  agentId = outcome.agentId;
  agent = new CliProcess(['agent', 'start', '--data-dir', agentDir, '--inventory-interval', '0'], join(dir, 'agent.log'));
  await waitFor(
    'IPS and anti-malware running',
    async () => {
      try {
        const s = await getAgentStatus({ dataDir: agentDir });
        return s.modules.ips?.state === 'running' && s.modules['anti-malware']?.state === 'running';
      } catch {
        return false;
      }
    },
    90_000,
    250,
  );
});

after(async () => {
  await agent?.stop();
  await manager?.proc.stop();
  upstream?.close();
  imds?.close();
  await aws?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('activation took over the computer cloud sync made for the instance', async () => {
  const { computers } = await manager.client.listComputers();
  const mine = computers.filter((x) => (x.cloud as { instanceId?: string } | null)?.instanceId === instanceId);
  assert.equal(mine.length, 1);
  assert.equal(mine[0]!.id, agentId);
});

test('flow 1: a real blocked exploit puts the X-Forwarded-For client into the WAF IP set; undo takes it out', async () => {
  const res = await sendRaw(
    { host: '127.0.0.1', port: proxyPort },
    serializeRequest(
      {
        method: 'GET',
        uri: '/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd',
        headers: [['X-Forwarded-For', '203.0.113.77, 127.0.0.5']],
        body: '',
      },
      'shop',
    ),
  );
  assert.equal(res.status, 403);
  const set = [...aws.state.region('eu-west-1').ipSets.values()][0]!;
  await waitFor('the WAF IP set to hold the attacker', () => set.addresses.includes('203.0.113.77/32'), 30_000, 100);
  assert.deepEqual(set.addresses, ['203.0.113.77/32']);
  const update = aws.callsOf('wafv2', 'UpdateIPSet')[0]!;
  assert.equal(update.accessKeyId, 'AKIAE2ETESTKEY000001');
  assert.deepEqual(update.params.Addresses, ['203.0.113.77/32']);
  const { actions } = await manager.client.listPlaybookActions({ playbookId: 'edge-block' });
  assert.equal(actions[0]!.computerId, agentId);
  const undone = await manager.client.undoPlaybookAction(actions[0]!.id);
  assert.equal(undone.status, 'undone');
  assert.deepEqual(set.addresses, []);
});

test('flow 2: a real malware detection isolates the instance and detaches it with replacement; undo restores its groups', async () => {
  writeFileSync(join(watched, 'upload.com'), EICAR);
  const r = aws.state.region('eu-west-1');
  await waitFor('the instance to be isolated', () => aws.callsOf('ec2', 'CreateTags').length > 0, 60_000, 100);
  const iso = [...r.securityGroups.values()].find((g) => g.groupName === 'palisade-isolation')!;
  assert.deepEqual(iso.egress, []);
  assert.deepEqual(r.instances.get(instanceId)!.securityGroupIds, [iso.groupId]);
  assert.deepEqual(aws.callsOf('autoscaling', 'DetachInstances')[0]!.params, {
    AutoScalingGroupName: 'shop-asg',
    'InstanceIds.member.1': instanceId,
    ShouldDecrementDesiredCapacity: 'false',
  });
  const asg = r.autoScalingGroups.get('shop-asg')!;
  assert.equal(asg.instanceIds.length, 2);
  assert.ok(!asg.instanceIds.includes(instanceId));
  const { actions } = await manager.client.listPlaybookActions({ playbookId: 'isolate' });
  assert.equal(actions[0]!.status, 'succeeded');
  const undone = await manager.client.undoPlaybookAction(actions[0]!.id);
  assert.equal(undone.status, 'undone');
  assert.deepEqual(r.instances.get(instanceId)!.securityGroupIds, [webGroup]);
});
