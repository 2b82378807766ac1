import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  paginateDescribeInstances,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { GetIPSetCommand, ListIPSetsCommand, UpdateIPSetCommand, WAFOptimisticLockException, WAFV2Client } from '@aws-sdk/client-wafv2';
import { type FakeAws, startFakeAws } from './fake-aws-server.ts';
import { FakeAwsState } from './fake-aws-state.ts';
import { startFakeImds } from './instance-metadata-service.ts';

const credentials = { accessKeyId: 'AKIDFAKETEST', secretAccessKey: 'not-a-secret' };

describe('fake AWS endpoint through the real SDK v3 clients', () => {
  let aws: FakeAws;
  let ec2: EC2Client;
  before(async () => {
    aws = await startFakeAws();
    ec2 = new EC2Client({ region: 'eu-west-1', endpoint: aws.endpoint, credentials, maxAttempts: 1 });
  });
  after(async () => {
    ec2.destroy();
    await aws.close();
  });

  it('EC2 Query: instances paginate, filters apply, errors surface with their code', async () => {
    for (let i = 0; i < 5; i++)
      aws.state.addInstance('eu-west-1', { vpcId: 'vpc-1', subnetId: 'subnet-1', tags: [{ key: 'Name', value: `web-${i}` }] });
    aws.state.addInstance('us-east-1', { vpcId: 'vpc-9', subnetId: 'subnet-9' });
    const ids: string[] = [];
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 2 }, {}))
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) ids.push(i.InstanceId!);
    assert.equal(ids.length, 5, 'only this region, all pages');
    assert.equal(aws.callsOf('ec2', 'DescribeInstances').length, 3);
    assert.equal(aws.calls[0]!.accessKeyId, 'AKIDFAKETEST');
    const one = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ids[1]!] }));
    const inst = one.Reservations![0]!.Instances![0]!;
    assert.equal(inst.State?.Name, 'running');
    assert.deepEqual(inst.Tags, [{ Key: 'Name', Value: 'web-1' }]);
    await assert.rejects(
      ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-nope'] })),
      (e: Error) => e.name === 'InvalidInstanceID.NotFound',
    );
  });

  it('EC2: create a group, move an instance into it', async () => {
    const inst = aws.state.addInstance('eu-west-1', { vpcId: 'vpc-2', subnetId: 'subnet-2' });
    const { GroupId } = await ec2.send(new CreateSecurityGroupCommand({ GroupName: 'iso', Description: 'd', VpcId: 'vpc-2' }));
    const found = await ec2.send(
      new DescribeSecurityGroupsCommand({
        Filters: [
          { Name: 'group-name', Values: ['iso'] },
          { Name: 'vpc-id', Values: ['vpc-2'] },
        ],
      }),
    );
    assert.equal(found.SecurityGroups?.[0]?.GroupId, GroupId);
    assert.equal(found.SecurityGroups?.[0]?.IpPermissionsEgress?.[0]?.IpRanges?.[0]?.CidrIp, '0.0.0.0/0');
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: inst.instanceId, Groups: [GroupId!] }));
    assert.deepEqual(aws.state.region('eu-west-1').instances.get(inst.instanceId)!.securityGroupIds, [GroupId]);
    await assert.rejects(
      ec2.send(new CreateSecurityGroupCommand({ GroupName: 'iso', Description: 'd', VpcId: 'vpc-2' })),
      (e: Error) => e.name === 'InvalidGroup.Duplicate',
    );
  });

  it('Auto Scaling Query: describe and detach with replacement', async () => {
    const asgClient = new AutoScalingClient({ region: 'eu-west-1', endpoint: aws.endpoint, credentials, maxAttempts: 1 });
    try {
      const g = aws.state.addAutoScalingGroup('eu-west-1', { name: 'web-asg', vpcId: 'vpc-3', subnetId: 'subnet-3', desiredCapacity: 2 });
      const before = [...g.instanceIds];
      const out = await asgClient.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }));
      assert.deepEqual(
        out.AutoScalingGroups?.[0]?.Instances?.map((i) => i.InstanceId),
        before,
      );
      const det = await asgClient.send(
        new DetachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: [before[0]!], ShouldDecrementDesiredCapacity: false }),
      );
      assert.equal(det.Activities?.length, 1);
      assert.equal(g.instanceIds.length, 2);
      assert.ok(!g.instanceIds.includes(before[0]!));
      assert.deepEqual(aws.callsOf('autoscaling', 'DetachInstances')[0]!.params, {
        AutoScalingGroupName: 'web-asg',
        'InstanceIds.member.1': before[0],
        ShouldDecrementDesiredCapacity: 'false',
      });
    } finally {
      asgClient.destroy();
    }
  });

  it('another Query service (SNS) plugs in through the extra handler and shares the call log', async () => {
    const withSns = await startFakeAws({
      extraHandler: (_req, body, res, record) => {
        const p = new URLSearchParams(body);
        if (p.get('Version') !== '2010-03-31') return false;
        record({
          service: 'sns',
          action: p.get('Action') ?? '',
          region: 'eu-west-1',
          accessKeyId: undefined,
          params: Object.fromEntries(p),
        });
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          '<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>m-1</MessageId></PublishResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></PublishResponse>',
        );
        return true;
      },
    });
    const sns = new SNSClient({ region: 'eu-west-1', endpoint: withSns.endpoint, credentials, maxAttempts: 1 });
    try {
      const out = await sns.send(new PublishCommand({ TopicArn: 'arn:aws:sns:eu-west-1:123456789012:t', Message: '[]' }));
      assert.equal(out.MessageId, 'm-1');
      assert.equal(withSns.callsOf('sns', 'Publish')[0]!.params.Message, '[]');
    } finally {
      sns.destroy();
      await withSns.close();
    }
  });

  it('WAFv2 JSON 1.1: list, get, update with the lock token; a stale token is refused', async () => {
    const waf = new WAFV2Client({ region: 'us-east-1', endpoint: aws.endpoint, credentials, maxAttempts: 1 });
    try {
      const set = aws.state.addIpSet('us-east-1', { name: 'blocked', scope: 'CLOUDFRONT' });
      const list = await waf.send(new ListIPSetsCommand({ Scope: 'CLOUDFRONT' }));
      assert.equal(list.IPSets?.[0]?.Id, set.id);
      const got = await waf.send(new GetIPSetCommand({ Scope: 'CLOUDFRONT', Name: 'blocked', Id: set.id }));
      await waf.send(
        new UpdateIPSetCommand({
          Scope: 'CLOUDFRONT',
          Name: 'blocked',
          Id: set.id,
          Addresses: ['203.0.113.7/32'],
          LockToken: got.LockToken!,
        }),
      );
      assert.deepEqual(set.addresses, ['203.0.113.7/32']);
      await assert.rejects(
        waf.send(new UpdateIPSetCommand({ Scope: 'CLOUDFRONT', Name: 'blocked', Id: set.id, Addresses: [], LockToken: got.LockToken! })),
        (e: Error) => e instanceof WAFOptimisticLockException,
      );
    } finally {
      waf.destroy();
    }
  });
});

describe('fake instance metadata service (IMDSv2)', () => {
  it('wants a session token, refuses proxied token requests, and answers from the fake state', async () => {
    const state = new FakeAwsState();
    const sg = state.addSecurityGroup('eu-west-1', { groupName: 'web', description: 'web', vpcId: 'vpc-1' });
    const asg = state.addAutoScalingGroup('eu-west-1', {
      name: 'web-asg',
      vpcId: 'vpc-1',
      subnetId: 'subnet-1',
      desiredCapacity: 1,
      securityGroupIds: [sg.groupId],
    });
    const instanceId = asg.instanceIds[0]!;
    const plain = await startFakeImds(state, { region: 'eu-west-1', accountId: '123456789012', instanceId });
    const tagged = await startFakeImds(state, { region: 'eu-west-1', accountId: '123456789012', instanceId, instanceMetadataTags: true });
    try {
      const put = (base: string, headers: Record<string, string>) => fetch(`${base}/latest/api/token`, { method: 'PUT', headers });
      assert.equal((await fetch(`${plain.endpoint}/latest/meta-data/instance-id`)).status, 401, 'IMDSv1 is off');
      assert.equal((await put(plain.endpoint, {})).status, 400, 'no TTL');
      assert.equal((await put(plain.endpoint, { 'x-aws-ec2-metadata-token-ttl-seconds': '21601' })).status, 400);
      assert.equal(
        (await put(plain.endpoint, { 'x-aws-ec2-metadata-token-ttl-seconds': '60', 'x-forwarded-for': '10.0.0.1' })).status,
        403,
      );
      const get = async (base: string, path: string) => {
        const token = await (await put(base, { 'x-aws-ec2-metadata-token-ttl-seconds': '60' })).text();
        const res = await fetch(`${base}${path}`, { headers: { 'x-aws-ec2-metadata-token': token } });
        return [res.status, await res.text()] as const;
      };
      const [status, doc] = await get(plain.endpoint, '/latest/dynamic/instance-identity/document');
      assert.equal(status, 200);
      assert.deepEqual((({ accountId, region, instanceId: id }) => ({ accountId, region, id }))(JSON.parse(doc)), {
        accountId: '123456789012',
        region: 'eu-west-1',
        id: instanceId,
      });
      assert.deepEqual(await get(plain.endpoint, '/latest/meta-data/security-groups'), [200, 'web']);
      assert.equal((await get(plain.endpoint, '/latest/meta-data/tags/instance/aws:autoscaling:groupName'))[0], 404, 'tags off by default');
      assert.deepEqual(await get(tagged.endpoint, '/latest/meta-data/tags/instance/aws:autoscaling:groupName'), [200, 'web-asg']);
      state.region('eu-west-1').instances.get(instanceId)!.state = 'terminated';
      assert.equal((await get(tagged.endpoint, '/latest/meta-data/instance-id'))[0], 404);
    } finally {
      await plain.close();
      await tagged.close();
    }
  });
});
