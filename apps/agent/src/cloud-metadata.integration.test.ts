import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { HostFacts } from '@palisade/protocol';
import { activateAgent } from './activate-agent.ts';
import { isAgentError } from './agent-error.ts';
import { silentLogger } from './agent-logger.ts';
import { fetchAwsMetadata } from './cloud-metadata.ts';
import { runAgent } from './run-agent.ts';
import { FakeManager } from './testing/fake-manager.ts';

// A loopback stand-in for the EC2 instance metadata service that, like an instance requiring
// IMDSv2, answers nothing without a session token.
const TOKEN = 'imds-session-token';
const META: Record<string, string> = {
  '/latest/dynamic/instance-identity/document': JSON.stringify({
    accountId: '123456789012',
    region: 'eu-west-1',
    instanceId: 'i-0abc',
    imageId: 'ami-0def',
  }),
  '/latest/meta-data/mac': '0a:1b:2c:3d:4e:5f',
  '/latest/meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/vpc-id': 'vpc-1',
  '/latest/meta-data/network/interfaces/macs/0a:1b:2c:3d:4e:5f/subnet-id': 'subnet-2',
  '/latest/meta-data/security-groups': 'web\nssh-from-bastion',
  '/latest/meta-data/tags/instance/aws:autoscaling:groupName': 'web-asg',
};
let imds: http.Server;
let imdsUrl: string;
const dir = mkdtempSync(join(tmpdir(), 'palisade-cloud-'));
const host: HostFacts = { hostname: 'ec2-host', platform: 'linux/amzn 2023', ips: [], agentVersion: '0.1.0' };

before(async () => {
  imds = http.createServer((req, res) => {
    if (req.method === 'PUT' && req.url === '/latest/api/token' && req.headers['x-aws-ec2-metadata-token-ttl-seconds']) {
      res.end(TOKEN);
      return;
    }
    if (req.headers['x-aws-ec2-metadata-token'] !== TOKEN) {
      res.writeHead(401).end();
      return;
    }
    const body = META[req.url ?? ''];
    if (body === undefined) res.writeHead(404).end();
    else res.end(body);
  });
  await new Promise<void>((r) => imds.listen(0, '127.0.0.1', () => r()));
  imdsUrl = `http://127.0.0.1:${(imds.address() as AddressInfo).port}`;
});
after(async () => {
  await new Promise((r) => imds.close(r));
  rmSync(dir, { recursive: true, force: true });
});

test('reads account, region, instance, network and ASG through IMDSv2', async () => {
  assert.deepEqual(await fetchAwsMetadata({ baseUrl: imdsUrl }), {
    provider: 'aws',
    accountId: '123456789012',
    region: 'eu-west-1',
    instanceId: 'i-0abc',
    imageId: 'ami-0def',
    vpcId: 'vpc-1',
    subnetId: 'subnet-2',
    securityGroups: ['web', 'ssh-from-bastion'],
    autoScalingGroup: 'web-asg',
  });
});

test('AWS_EC2_METADATA_SERVICE_ENDPOINT moves the default endpoint, as it does for the AWS SDKs', async () => {
  const saved = process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
  process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = `${imdsUrl}/`;
  try {
    assert.equal((await fetchAwsMetadata())?.instanceId, 'i-0abc');
  } finally {
    if (saved === undefined) delete process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT;
    else process.env.AWS_EC2_METADATA_SERVICE_ENDPOINT = saved;
  }
});

test('no metadata service means no cloud facts, quickly', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const began = Date.now();
  assert.equal(await fetchAwsMetadata({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 500 }), undefined);
  assert.ok(Date.now() - began < 2_000);
});

test('--cloud aws at activation: the manager sees the cloud facts at activation and in heartbeats', async () => {
  const manager = new FakeManager();
  await manager.start();
  manager.setConfig({ heartbeatSeconds: 1, spool: { maxBytes: 1 << 20 }, modules: {} });
  try {
    await assert.rejects(
      activateAgent({
        managerUrl: manager.url,
        token: 'activation-token-0001',
        dataDir: join(dir, 'x'),
        host,
        cloud: 'aws',
        cloudMetadataUrl: 'http://127.0.0.1:1',
      }),
      (err: unknown) => isAgentError(err) && err.code === 'AGENT_CLOUD_METADATA_UNAVAILABLE',
    );
    const dataDir = join(dir, 'agent');
    const outcome = await activateAgent({
      managerUrl: manager.url,
      token: 'activation-token-0001',
      dataDir,
      host,
      cloud: 'aws',
      cloudMetadataUrl: imdsUrl,
    });
    const activated = manager.agents.get(outcome.agentId)?.host as HostFacts;
    assert.equal(activated.cloud?.instanceId, 'i-0abc');
    assert.equal(activated.cloud?.autoScalingGroup, 'web-asg');
    const agent = await runAgent({ dataDir, logger: silentLogger(), hostFacts: () => host, commandWaitSeconds: 2, inventoryIntervalMs: 0 });
    try {
      const deadline = Date.now() + 5_000;
      while (manager.heartbeats.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
      assert.equal(manager.heartbeats[0]?.host.cloud?.region, 'eu-west-1');
    } finally {
      await agent.stop();
    }
    assert.deepEqual(manager.protocolErrors, []);
  } finally {
    await manager.stop();
  }
});
