import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { JobRunner } from '../jobs/job-runner.ts';
import { type FakeAws, startFakeAws } from '../testing/fake-aws/fake-aws-server.ts';
import { cloudSyncJob, CloudSyncScheduler } from './cloud-sync-scheduler.ts';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

const REGIONS = ['eu-west-1', 'us-east-1'];

for (const location of testLocations()) {
  describe(`AWS cloud sync against the fake endpoint (${location().name})`, () => {
    let aws: FakeAws;
    let m: TestManager;
    let accountId: string;
    before(async () => {
      aws = await startFakeAws({ accountId: '111122223333' });
      m = await testManager(location(), { awsEndpoint: aws.endpoint });
    });
    after(async () => {
      await m?.close();
      await aws?.close();
    });

    const computers = async () =>
      (await m.call('GET', '/api/v1/computers?includeDeactivated=true')).body.computers as Array<{
        id: string;
        hostname: string;
        cloud: Record<string, unknown> | null;
        tags: Record<string, string>;
        deactivatedAt: string | null;
        policyId: string | null;
        agentVersion: string;
      }>;
    const byInstance = async (id: string) => (await computers()).find((c) => c.cloud?.instanceId === id);

    it('keeps the secret out of every answer', async () => {
      const res = await m.call('POST', '/api/v1/cloud-accounts', {
        body: {
          name: 'prod',
          authType: 'access-keys',
          regions: REGIONS,
          accessKeyId: 'AKIAFAKEFAKEFAKE0001',
          secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETKEY01',
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      accountId = res.body.id;
      assert.equal(res.body.hasSecret, true);
      const listed = await m.call('GET', '/api/v1/cloud-accounts');
      assert.ok(!JSON.stringify(listed.body).includes('wJalrXUtnFEMI'));
      assert.ok(!JSON.stringify(res.body).includes('wJalrXUtnFEMI'));
      const bad = await m.call('POST', '/api/v1/cloud-accounts', { body: { name: 'x', authType: 'access-keys', regions: REGIONS } });
      assert.equal(bad.status, 400);
      assert.equal(bad.body.code, 'CLOUD_ACCOUNT_INVALID');
    });

    it('instances and Auto Scaling groups appear as computers before any agent, with cloud metadata; tasks run on discovery', async () => {
      const policy = (await m.call('POST', '/api/v1/policies', { body: { name: 'web-asg-policy' } })).body;
      const task = await m.call('POST', '/api/v1/event-tasks', {
        body: {
          name: 'web asg',
          trigger: 'cloud-discovered',
          conditions: [{ field: 'tag:role', regex: '^web$' }],
          actions: [{ type: 'assign-policy', policyId: policy.id }],
        },
      });
      assert.equal(task.status, 201, JSON.stringify(task.body));
      const web = aws.state.addSecurityGroup('eu-west-1', { groupName: 'web', description: 'web', vpcId: 'vpc-a' });
      const asg = aws.state.addAutoScalingGroup('eu-west-1', {
        name: 'web-asg',
        vpcId: 'vpc-a',
        subnetId: 'subnet-a',
        desiredCapacity: 2,
        securityGroupIds: [web.groupId],
        tags: [{ key: 'role', value: 'web' }],
      });
      const db = aws.state.addInstance('us-east-1', {
        vpcId: 'vpc-b',
        subnetId: 'subnet-b',
        tags: [{ key: 'Name', value: 'db-1' }],
        imageId: 'ami-db',
      });

      const sync = await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`);
      assert.equal(sync.status, 200, JSON.stringify(sync.body));
      assert.equal(sync.body.awsAccountId, '111122223333', 'learnt from the reservations');
      assert.deepEqual(sync.body.regions['eu-west-1'].discovered.sort(), [...asg.instanceIds].sort());
      assert.deepEqual(sync.body.regions['us-east-1'].discovered, [db.instanceId]);
      assert.deepEqual(sync.body.regions['eu-west-1'].asgsAdded, ['web-asg']);
      // Both regions were called with the account's own key.
      assert.deepEqual(new Set(aws.callsOf('ec2', 'DescribeInstances').map((c) => c.region)), new Set(REGIONS));
      assert.ok(aws.calls.every((c) => c.accessKeyId === 'AKIAFAKEFAKEFAKE0001'));

      const c = (await byInstance(asg.instanceIds[0]!))!;
      assert.deepEqual(c.cloud, {
        provider: 'aws',
        accountId: '111122223333',
        region: 'eu-west-1',
        instanceId: asg.instanceIds[0],
        imageId: 'ami-0123456789abcdef0',
        vpcId: 'vpc-a',
        subnetId: 'subnet-a',
        securityGroups: ['web'],
        autoScalingGroup: 'web-asg',
      });
      assert.equal(c.agentVersion, '', 'no agent yet');
      assert.equal(c.policyId, policy.id, 'the cloud-discovered task assigned the policy');
      const dbc = (await byInstance(db.instanceId))!;
      assert.equal(dbc.hostname, 'db-1');
      assert.equal(dbc.policyId, null, 'the task condition does not match the db');
      const asgs = (await m.call('GET', `/api/v1/cloud-accounts/${accountId}/auto-scaling-groups`)).body.autoScalingGroups;
      assert.deepEqual(
        asgs.map((g: { name: string }) => g.name),
        ['web-asg'],
      );
      assert.equal(asgs[0].data.desiredCapacity, 2);
    });

    it('a second sync changes what changed, creates nothing twice, retires terminated and vanished instances', async () => {
      const r = aws.state.region('eu-west-1');
      const asg = r.autoScalingGroups.get('web-asg')!;
      const [first, second] = asg.instanceIds as [string, string];
      const firstComputer = (await byInstance(first))!;
      r.instances.get(first)!.tags.push({ key: 'patched', value: 'yes' });
      r.instances.get(second)!.state = 'terminated';
      const db = [...aws.state.region('us-east-1').instances.values()][0]!;
      aws.state.region('us-east-1').instances.delete(db.instanceId);
      r.autoScalingGroups.delete('web-asg');

      const sync = (await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`)).body;
      assert.deepEqual(sync.regions['eu-west-1'].discovered, []);
      assert.deepEqual(sync.regions['eu-west-1'].retired, [second]);
      assert.deepEqual(sync.regions['us-east-1'].retired, [db.instanceId]);
      assert.deepEqual(sync.regions['eu-west-1'].asgsRemoved, ['web-asg']);
      const after = (await byInstance(first))!;
      assert.equal(after.id, firstComputer.id, 'same computer');
      assert.equal(after.tags.patched, 'yes');
      assert.ok((await byInstance(second))!.deactivatedAt, 'terminated instance retired');
      assert.ok((await byInstance(db.instanceId))!.deactivatedAt, 'vanished instance retired');
      assert.equal((await computers()).filter((c) => c.cloud?.instanceId === first).length, 1);
      const asgs = (await m.call('GET', `/api/v1/cloud-accounts/${accountId}/auto-scaling-groups`)).body.autoScalingGroups;
      assert.deepEqual(asgs, []);
    });

    it('assume-role: STS AssumeRole with the base keys and the external id, then EC2 with the temporary credentials', async () => {
      const res = await m.call('POST', '/api/v1/cloud-accounts', {
        body: {
          name: 'customer',
          authType: 'assume-role',
          regions: ['ap-southeast-2'],
          roleArn: 'arn:aws:iam::222233334444:role/palisade',
          externalId: 'ext-4711',
          accessKeyId: 'AKIABASEKEYBASEKEY01',
          secretAccessKey: 'base-secret-key-for-assume-role-000000001',
        },
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.awsAccountId, '222233334444', 'from the role ARN');
      aws.calls.length = 0;
      const sync = await m.call('POST', `/api/v1/cloud-accounts/${res.body.id}/sync`);
      assert.equal(sync.status, 200, JSON.stringify(sync.body));
      const [assume] = aws.callsOf('sts', 'AssumeRole');
      assert.equal(assume!.accessKeyId, 'AKIABASEKEYBASEKEY01');
      assert.equal(assume!.params.RoleArn, 'arn:aws:iam::222233334444:role/palisade');
      assert.equal(assume!.params.ExternalId, 'ext-4711');
      const temp = aws.issuedCredentials.at(-1)!.accessKeyId;
      const others = aws.calls.filter((c) => c.service !== 'sts');
      assert.ok(others.length >= 2);
      assert.ok(others.every((c) => c.accessKeyId === temp && c.region === 'ap-southeast-2'));
      const bad = await m.call('POST', '/api/v1/cloud-accounts', {
        body: { name: 'x2', authType: 'assume-role', regions: ['eu-west-1'], roleArn: 'arn:aws:iam::1:role/p' },
      });
      assert.equal(bad.body.code, 'CLOUD_ACCOUNT_INVALID');
      await m.call('DELETE', `/api/v1/cloud-accounts/${res.body.id}`);
    });

    it('periodic sync: due accounts get one cloud-sync job per interval, which the job runner runs', async () => {
      const scheduler = new CloudSyncScheduler(m.stores, { clock: () => m.clock.now });
      assert.equal(await scheduler.tick(), 0, 'synced a moment ago');
      m.clock.now = new Date(m.clock.now.getTime() + 301_000);
      assert.equal(await scheduler.tick(), 1);
      assert.equal(await scheduler.tick(), 0, 'the same slot is not queued twice');
      aws.calls.length = 0;
      const runner = new JobRunner(m.stores, { notify: () => {}, handlers: { 'cloud-sync': cloudSyncJob(m.cloud) } });
      await runner.tick();
      assert.deepEqual(new Set(aws.callsOf('ec2', 'DescribeInstances').map((c) => c.region)), new Set(REGIONS));
      const account = (await m.call('GET', `/api/v1/cloud-accounts/${accountId}`)).body;
      assert.equal(account.lastSyncAt, m.clock.now.toISOString());
      assert.equal(account.lastSyncStatus, 'ok');
    });

    it('activation binds the agent to its discovered computer and the agent-activated task assigns the policy by tag', async () => {
      const policy = (await m.call('POST', '/api/v1/policies', { body: { name: 'asg-on-activation' } })).body;
      await m.call('POST', '/api/v1/event-tasks', {
        body: {
          name: 'on activation',
          trigger: 'agent-activated',
          conditions: [{ field: 'tag:patched', regex: '^yes$' }],
          actions: [{ type: 'assign-policy', policyId: policy.id }],
        },
      });
      const inst = [...aws.state.region('eu-west-1').instances.values()].find(
        (i) => i.state === 'running' && i.tags.some((t) => t.key === 'patched'),
      )!;
      const discovered = (await byInstance(inst.instanceId))!;
      const token = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
      const host = {
        ...sampleHost('ip-10-0-0-7'),
        cloud: { provider: 'aws', accountId: '111122223333', region: 'eu-west-1', instanceId: inst.instanceId },
      };
      const act = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host } });
      assert.equal(act.status, 201, JSON.stringify(act.body));
      assert.equal(act.body.agentId, discovered.id, 'the agent took over the discovered computer');
      const bound = (await byInstance(inst.instanceId))!;
      assert.equal(bound.agentVersion, '0.1.0');
      assert.equal(bound.policyId, policy.id, 'assigned by the EC2 tag on activation');
      assert.equal((await computers()).filter((c) => c.cloud?.instanceId === inst.instanceId).length, 1);
      // A second activation claiming the same instance gets a computer of its own.
      const token2 = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
      const again = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token: token2, host } });
      assert.notEqual(again.body.agentId, discovered.id);
    });
  });
}
