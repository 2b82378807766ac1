import assert from 'node:assert/strict';
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { type FakeAws, startFakeAws } from '../testing/fake-aws/fake-aws-server.ts';
import { PRIMARY_TENANT } from '../store/store-provider.ts';
import { sampleHost, type TestManager, testManager } from '../testing/test-manager.ts';
import { testLocations } from '../testing/test-stores.ts';

const ATTACKER = '198.51.100.23';
const LB = '10.0.1.10';

/** An IPS event as the agent's IPS module sends it (see apps/agent/src/modules/ips/ips-module.ts). */
function ipsEvent(clientAddress: string, peerAddress = LB) {
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    module: 'ips',
    type: 'ips.blocked',
    severity: 'high',
    ruleId: '942100',
    message: `web: blocked GET /?id=1' OR 1=1 from ${clientAddress}`,
    details: {
      service: 'web',
      action: 'blocked',
      ruleId: 942100,
      cves: [],
      msg: 'SQL Injection',
      clientAddress,
      peerAddress,
      requestLine: "GET /?id=1' OR 1=1 HTTP/1.1",
      count: 1,
    },
  };
}

/** An anti-malware detection as the agent's module sends it. */
function malwareEvent() {
  return {
    id: randomUUID(),
    time: new Date().toISOString(),
    module: 'anti-malware',
    type: 'anti-malware.detection',
    severity: 'high',
    ruleId: 'Eicar-Test-Signature',
    message: 'Eicar-Test-Signature in /srv/www/upload/x.com: quarantined as q1',
    details: { path: '/srv/www/upload/x.com', detections: ['Eicar-Test-Signature'], action: 'quarantined' },
  };
}

describe('response playbooks against the fake AWS endpoint', () => {
  let aws: FakeAws;
  let m: TestManager;
  let web: { id: string; auth: string };
  let accountId: string;

  const activate = async (host: object) => {
    const token = (await m.call('POST', '/api/v1/activation-tokens', { body: {} })).body.token;
    const res = await m.call('POST', '/api/agent/v1/activate', { key: null, body: { token, host } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id: res.body.agentId as string, auth: `${res.body.agentId}:${res.body.agentSecret}` };
  };
  const send = async (agent: { auth: string }, events: object[]) => {
    const res = await m.call('POST', '/api/agent/v1/events', { key: null, agent: agent.auth, body: { events } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    await m.playbooks.idle();
  };
  const actions = async (playbookId: string) => (await m.call('GET', `/api/v1/playbook-actions?playbookId=${playbookId}`)).body.actions;
  const awsCalls = () => aws.calls.map((c) => `${c.service}:${c.action}`);

  before(async () => {
    aws = await startFakeAws({ accountId: '444455556666' });
    m = await testManager(testLocations()[0]!(), { awsEndpoint: aws.endpoint });
    web = await activate({ ...sampleHost('web-1'), ips: ['10.0.2.15'] });
    const acct = await m.call('POST', '/api/v1/cloud-accounts', {
      body: {
        name: 'prod',
        authType: 'access-keys',
        regions: ['eu-west-1'],
        accessKeyId: 'AKIAPLAYBOOKTEST0001',
        secretAccessKey: 'playbook-test-secret-key-0123456789',
      },
    });
    assert.equal(acct.status, 201, JSON.stringify(acct.body));
    accountId = acct.body.id;
  });
  after(async () => {
    await m?.close();
    await aws?.close();
  });

  describe('reference flow 1: the IPS stops an exploit behind a load balancer -> the attacker goes into the WAF IP set', () => {
    let playbookId: string;
    let ipSet: ReturnType<FakeAws['state']['addIpSet']>;

    before(async () => {
      ipSet = aws.state.addIpSet('eu-west-1', { name: 'palisade-blocked', scope: 'REGIONAL', addresses: ['192.0.2.1/32'] });
      aws.state.addIpSet('eu-west-1', { name: 'unrelated', scope: 'REGIONAL' });
      const pb = await m.call('POST', '/api/v1/playbooks', {
        body: {
          name: 'block exploiters at the edge',
          trigger: { filter: { modules: ['ips'], types: ['ips.blocked'] }, threshold: 2, windowSeconds: 60, groupBy: 'attacker' },
          actions: [
            {
              type: 'aws-waf-block-ip',
              cloudAccount: 'prod',
              region: 'eu-west-1',
              scope: 'REGIONAL',
              ipSetName: 'palisade-blocked',
              durationSeconds: 3600,
            },
          ],
          safeguards: { allowList: ['10.0.0.0/16', '203.0.113.0/24'], maxRunsPerHour: 5 },
        },
      });
      assert.equal(pb.status, 201, JSON.stringify(pb.body));
      playbookId = pb.body.id;
    });

    it('below the threshold nothing is called; at the threshold the /32 is added under the lock token', async () => {
      aws.calls.length = 0;
      const first = ipsEvent(ATTACKER);
      await send(web, [first]);
      await send(web, [first]); // a re-sent batch does not count twice
      assert.deepEqual(awsCalls(), []);
      assert.deepEqual(await actions(playbookId), []);

      await send(web, [ipsEvent(ATTACKER)]);
      assert.deepEqual(awsCalls(), ['wafv2:ListIPSets', 'wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
      const get = aws.callsOf('wafv2', 'GetIPSet')[0]!;
      const update = aws.callsOf('wafv2', 'UpdateIPSet')[0]!;
      assert.equal(get.region, 'eu-west-1');
      assert.equal(get.accessKeyId, 'AKIAPLAYBOOKTEST0001');
      assert.deepEqual(update.params, {
        Scope: 'REGIONAL',
        Name: 'palisade-blocked',
        Id: ipSet.id,
        Addresses: ['192.0.2.1/32', `${ATTACKER}/32`],
        LockToken: aws.callsOf('wafv2', 'ListIPSets')[0] && update.params.LockToken,
      });
      assert.notEqual(update.params.LockToken, undefined);
      assert.deepEqual(ipSet.addresses, ['192.0.2.1/32', `${ATTACKER}/32`]);

      const [rec] = await actions(playbookId);
      assert.equal(rec.status, 'succeeded');
      assert.equal(rec.actionType, 'aws-waf-block-ip');
      assert.equal(rec.result.address, `${ATTACKER}/32`);
      assert.equal(rec.computerId, web.id);
      assert.equal(rec.eventIds.length, 2);
      assert.equal(rec.expiresAt, new Date(m.clock.now.getTime() + 3600_000).toISOString());

      // More events from the same attacker while the block stands do nothing more.
      aws.calls.length = 0;
      await send(web, [ipsEvent(ATTACKER), ipsEvent(ATTACKER)]);
      assert.deepEqual(awsCalls(), []);
    });

    it('undo takes exactly that /32 out again, leaving what others put there', async () => {
      const [rec] = await actions(playbookId);
      aws.calls.length = 0;
      const res = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'undone');
      assert.deepEqual(awsCalls(), ['wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
      assert.deepEqual(aws.callsOf('wafv2', 'UpdateIPSet')[0]!.params.Addresses, ['192.0.2.1/32']);
      assert.deepEqual(ipSet.addresses, ['192.0.2.1/32']);
      const again = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(again.status, 409);
      assert.equal(again.body.code, 'PLAYBOOK_NOT_UNDOABLE');
    });

    it('a concurrent change (stale lock token) is re-read and re-applied; IPv6 attackers need an IPv6 set', async () => {
      aws.calls.length = 0;
      aws.failNext('wafv2', 'UpdateIPSet', 'WAFOptimisticLockException');
      const other = '198.51.100.77';
      await send(web, [ipsEvent(other), ipsEvent(other)]);
      assert.deepEqual(awsCalls(), ['wafv2:ListIPSets', 'wafv2:GetIPSet', 'wafv2:UpdateIPSet', 'wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
      assert.deepEqual(ipSet.addresses, ['192.0.2.1/32', `${other}/32`]);

      aws.calls.length = 0;
      await send(web, [ipsEvent('2001:db8::66'), ipsEvent('2001:db8::66')]);
      assert.deepEqual(awsCalls(), []);
      const skipped = (await actions(playbookId)).find((a: { status: string }) => a.status === 'skipped');
      assert.match(skipped.error, /IPv6/);
    });

    it('expiry removes the block on its own', async () => {
      const rec = (await actions(playbookId)).find((a: { status: string; result: { address?: string } }) => a.status === 'succeeded');
      assert.equal(rec.result.address, '198.51.100.77/32');
      aws.calls.length = 0;
      assert.equal(await m.playbooks.sweepExpired((await m.stores.tenant(PRIMARY_TENANT))!), 0, 'not yet');
      m.clock.now = new Date(m.clock.now.getTime() + 3601_000);
      assert.equal(await m.playbooks.sweepExpired((await m.stores.tenant(PRIMARY_TENANT))!), 1);
      assert.deepEqual(awsCalls(), ['wafv2:GetIPSet', 'wafv2:UpdateIPSet']);
      assert.deepEqual(ipSet.addresses, ['192.0.2.1/32']);
      assert.equal((await m.call('GET', `/api/v1/playbook-actions/${rec.id}`)).body.status, 'expired');
    });

    it('safeguards: the load balancer, allow-listed networks and protected computers are never blocked', async () => {
      aws.calls.length = 0;
      for (const addr of [LB, '203.0.113.9', '10.0.2.15', '127.0.0.1']) await send(web, [ipsEvent(addr, addr), ipsEvent(addr, addr)]);
      assert.deepEqual(awsCalls(), []);
      const recs = (await actions(playbookId)).filter(
        (a: { status: string; error: string | null }) => a.status === 'skipped' && a.error?.startsWith('safeguard'),
      );
      assert.equal(recs.length, 4);
    });

    it('rate limit: beyond maxRunsPerHour runs are recorded as rate-limited and call nothing', async () => {
      aws.calls.length = 0;
      // The runs above are more than an hour old now (the clock moved for the expiry); skipped runs never count.
      for (let i = 0; i < 7; i++) await send(web, [ipsEvent(`198.51.100.${100 + i}`), ipsEvent(`198.51.100.${100 + i}`)]);
      const limited = (await actions(playbookId)).filter((a: { status: string }) => a.status === 'rate-limited');
      assert.deepEqual(limited.map((a: { triggerKey: string }) => a.triggerKey).sort(), ['ip:198.51.100.105', 'ip:198.51.100.106']);
      assert.equal(aws.callsOf('wafv2', 'UpdateIPSet').length, 5);
      assert.deepEqual(ipSet.addresses, ['192.0.2.1/32', ...[100, 101, 102, 103, 104].map((n) => `198.51.100.${n}/32`)]);
    });
  });

  describe('reference flow 2: anti-malware finds an infection -> isolation security group, ASG detach with replacement', () => {
    let instanceId: string;
    let webGroup: string;
    let agent: { id: string; auth: string };
    let playbookId: string;

    before(async () => {
      webGroup = aws.state.addSecurityGroup('eu-west-1', { groupName: 'web', description: 'web', vpcId: 'vpc-web' }).groupId;
      const asg = aws.state.addAutoScalingGroup('eu-west-1', {
        name: 'web-asg',
        vpcId: 'vpc-web',
        subnetId: 'subnet-web',
        desiredCapacity: 2,
        securityGroupIds: [webGroup],
      });
      instanceId = asg.instanceIds[0]!;
      const sync = await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`);
      assert.equal(sync.status, 200, JSON.stringify(sync.body));
      agent = await activate({
        ...sampleHost('ip-10-0-9-9'),
        cloud: { provider: 'aws', accountId: '444455556666', region: 'eu-west-1', instanceId },
      });
      const pb = await m.call('POST', '/api/v1/playbooks', {
        body: {
          name: 'isolate infected instances',
          trigger: {
            filter: { modules: ['anti-malware'], types: ['anti-malware.detection'], minSeverity: 'high' },
            threshold: 1,
            windowSeconds: 300,
            groupBy: 'computer',
          },
          actions: [
            { type: 'aws-isolate-instance', isolationGroupName: 'palisade-isolation', detachFromAutoScalingGroup: true, snapshot: true },
            { type: 'run-scan', targets: 'source', paths: ['/'] },
          ],
        },
      });
      assert.equal(pb.status, 201, JSON.stringify(pb.body));
      playbookId = pb.body.id;
    });

    it('applies a no-traffic group, detaches from the ASG without lowering capacity, snapshots and tags', async () => {
      aws.calls.length = 0;
      await send(agent, [malwareEvent()]);
      assert.deepEqual(awsCalls(), [
        'ec2:DescribeInstances',
        'ec2:DescribeSecurityGroups',
        'ec2:CreateSecurityGroup',
        'ec2:DescribeSecurityGroups',
        'ec2:RevokeSecurityGroupEgress',
        'ec2:ModifyInstanceAttribute',
        'autoscaling:DetachInstances',
        'ec2:CreateSnapshot',
        'ec2:CreateTags',
      ]);
      const r = aws.state.region('eu-west-1');
      const iso = [...r.securityGroups.values()].find((g) => g.groupName === 'palisade-isolation')!;
      assert.equal(iso.vpcId, 'vpc-web');
      assert.deepEqual(iso.egress, [], 'no outbound traffic either');
      assert.deepEqual(aws.callsOf('ec2', 'ModifyInstanceAttribute')[0]!.params, { InstanceId: instanceId, 'GroupId.1': iso.groupId });
      assert.deepEqual(r.instances.get(instanceId)!.securityGroupIds, [iso.groupId]);
      assert.deepEqual(aws.callsOf('autoscaling', 'DetachInstances')[0]!.params, {
        AutoScalingGroupName: 'web-asg',
        'InstanceIds.member.1': instanceId,
        ShouldDecrementDesiredCapacity: 'false',
      });
      const asg = r.autoScalingGroups.get('web-asg')!;
      assert.equal(asg.instanceIds.length, 2, 'a replacement was launched');
      assert.ok(!asg.instanceIds.includes(instanceId));
      assert.deepEqual(r.instances.get(asg.instanceIds[1]!)!.securityGroupIds, [webGroup], 'the replacement has the normal groups');
      assert.equal(r.snapshots.size, 1);
      const tags = Object.fromEntries(r.instances.get(instanceId)!.tags.map((t) => [t.key, t.value]));
      assert.equal(tags['palisade:previous-security-groups'], webGroup);
      assert.ok(tags['palisade:isolated']);

      const recs = await actions(playbookId);
      const isolate = recs.find((a: { actionType: string }) => a.actionType === 'aws-isolate-instance');
      assert.equal(isolate.status, 'succeeded');
      assert.deepEqual(isolate.result.previousGroupIds, [webGroup]);
      assert.equal(isolate.result.detachedFrom, 'web-asg');
      // The scan went to the agent as its anti-malware command.
      const scan = recs.find((a: { actionType: string }) => a.actionType === 'run-scan');
      assert.equal(scan.status, 'succeeded');
      const polled = await m.call('GET', '/api/agent/v1/commands', { key: null, agent: agent.auth });
      assert.deepEqual(
        polled.body.commands.map((c: { kind: string; args: unknown }) => [c.kind, c.args]),
        [['anti-malware.scan', { paths: ['/'] }]],
      );
    });

    it('the isolation group is reused, not created twice', async () => {
      const other = aws.state.addInstance('eu-west-1', { vpcId: 'vpc-web', subnetId: 'subnet-web', securityGroupIds: [webGroup] });
      await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`);
      const a2 = await activate({
        ...sampleHost('ip-10-0-9-10'),
        cloud: { provider: 'aws', accountId: '444455556666', region: 'eu-west-1', instanceId: other.instanceId },
      });
      aws.calls.length = 0;
      await send(a2, [malwareEvent()]);
      assert.ok(!awsCalls().includes('ec2:CreateSecurityGroup'));
      assert.ok(!awsCalls().includes('autoscaling:DetachInstances'), 'not in an ASG');
      assert.equal(
        [...aws.state.region('eu-west-1').securityGroups.values()].filter((g) => g.groupName === 'palisade-isolation').length,
        1,
      );
    });

    it('undo restores the original groups and removes the isolation tags', async () => {
      const isolate = (await actions(playbookId)).find(
        (a: { actionType: string; result: { instanceId?: string } }) => a.result.instanceId === instanceId,
      );
      aws.calls.length = 0;
      const res = await m.call('POST', `/api/v1/playbook-actions/${isolate.id}/undo`);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.status, 'undone');
      assert.deepEqual(awsCalls(), [
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:ModifyInstanceAttribute',
        'autoscaling:AttachInstances',
        'ec2:DeleteTags',
      ]);
      assert.deepEqual(aws.callsOf('autoscaling', 'DescribeAutoScalingGroups')[0]!.params, { 'AutoScalingGroupNames.member.1': 'web-asg' });
      assert.deepEqual(aws.callsOf('ec2', 'ModifyInstanceAttribute')[0]!.params, { InstanceId: instanceId, 'GroupId.1': webGroup });
      assert.deepEqual(aws.callsOf('autoscaling', 'AttachInstances')[0]!.params, {
        AutoScalingGroupName: 'web-asg',
        'InstanceIds.member.1': instanceId,
      });
      const r = aws.state.region('eu-west-1');
      const inst = r.instances.get(instanceId)!;
      assert.deepEqual(inst.securityGroupIds, [webGroup]);
      assert.ok(!inst.tags.some((t) => t.key === 'palisade:isolated'));
      // AttachInstances raised the desired capacity: the replacement keeps running next to it.
      const asg = r.autoScalingGroups.get('web-asg')!;
      assert.equal(asg.desiredCapacity, 3);
      assert.equal(asg.instanceIds.length, 3);
      assert.ok(asg.instanceIds.includes(instanceId));
      assert.equal(res.body.undoResult.reattachedTo, 'web-asg');
      assert.deepEqual(res.body.undoResult.desiredCapacity, { before: 2, after: 3 });
      assert.match(res.body.undoResult.note, /web-asg now runs one more instance/);
      const isolate2 = (await actions(playbookId)).find((a: { id: string }) => a.id === isolate.id);
      assert.deepEqual(isolate2.result.autoScaling, {
        groupName: 'web-asg',
        decrementedDesiredCapacity: false,
        reattachOnUndo: true,
        restoreDesiredCapacityOnUndo: false,
      });
    });

    /** An instance of a fresh ASG, isolated by the playbook; returns it and its action record. */
    const isolateMemberOf = async (name: string, init: { desiredCapacity: number; maxSize?: number }, hostname: string) => {
      const g = aws.state.addAutoScalingGroup('eu-west-1', {
        name,
        vpcId: 'vpc-web',
        subnetId: 'subnet-web',
        securityGroupIds: [webGroup],
        ...init,
      });
      const id = g.instanceIds[0]!;
      await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`);
      const a = await activate({ ...sampleHost(hostname), cloud: { provider: 'aws', region: 'eu-west-1', instanceId: id } });
      await send(a, [malwareEvent()]);
      const rec = (await actions(playbookId)).find(
        (x: { actionType: string; result: { instanceId?: string } }) =>
          x.actionType === 'aws-isolate-instance' && x.result.instanceId === id,
      );
      assert.equal(rec?.status, 'succeeded', JSON.stringify(rec));
      return { g, id, rec };
    };
    const isolationGroupId = () =>
      [...aws.state.region('eu-west-1').securityGroups.values()].find((g) => g.groupName === 'palisade-isolation')!.groupId;

    it('undo into a group at its MaxSize changes nothing and says why; after MaxSize is raised it re-attaches', async () => {
      const { g, id, rec } = await isolateMemberOf('api-asg', { desiredCapacity: 2, maxSize: 2 }, 'ip-10-0-9-20');
      assert.equal(g.desiredCapacity, 2, 'detached without decrement: replaced');
      aws.calls.length = 0;
      const res = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(res.body.status, 'undo-failed');
      assert.match(res.body.undoResult.error, /api-asg is at its maximum size \(2, desired 2\)/);
      assert.deepEqual(awsCalls(), ['autoscaling:DescribeAutoScalingGroups'], 'nothing changed before the check');
      assert.deepEqual(aws.state.region('eu-west-1').instances.get(id)!.securityGroupIds, [isolationGroupId()]);

      g.maxSize = 3;
      aws.calls.length = 0;
      const again = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(again.body.status, 'undone', JSON.stringify(again.body));
      assert.deepEqual(awsCalls(), [
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:ModifyInstanceAttribute',
        'autoscaling:AttachInstances',
        'ec2:DeleteTags',
      ]);
      assert.equal(g.desiredCapacity, 3);
      assert.ok(g.instanceIds.includes(id));
    });

    it('the fake answers AttachInstances past MaxSize as AWS does', async () => {
      const { g, id } = await isolateMemberOf('full-asg', { desiredCapacity: 1, maxSize: 1 }, 'ip-10-0-9-21');
      const clients = await import('@aws-sdk/client-auto-scaling');
      const as = new clients.AutoScalingClient({
        endpoint: aws.endpoint,
        region: 'eu-west-1',
        credentials: { accessKeyId: 'AKIAPLAYBOOKTEST0001', secretAccessKey: 'x' },
        maxAttempts: 1,
      });
      try {
        await assert.rejects(
          as.send(new clients.AttachInstancesCommand({ AutoScalingGroupName: g.name, InstanceIds: [id] })),
          (err: Error & { Code?: string }) => {
            assert.equal(err.name, 'ValidationError');
            assert.equal(
              err.message,
              'AutoScalingGroup full-asg has min-size=0, max-size=1, and desired-size=1. To attach 1 instance, please update the AutoScalingGroup sizes appropriately.',
            );
            return true;
          },
        );
        await assert.rejects(
          as.send(new clients.SetDesiredCapacityCommand({ AutoScalingGroupName: g.name, DesiredCapacity: 2 })),
          /New SetDesiredCapacity value 2 is above max value 1 for the AutoScalingGroup\./,
        );
        await assert.rejects(
          as.send(new clients.AttachInstancesCommand({ AutoScalingGroupName: 'no-such-asg', InstanceIds: [id] })),
          /AutoScalingGroup name not found/,
        );
      } finally {
        as.destroy();
      }
    });

    it('when the re-attach fails the instance goes back behind the isolation group; a later undo completes', async () => {
      const { g, id, rec } = await isolateMemberOf('batch-asg', { desiredCapacity: 1 }, 'ip-10-0-9-22');
      const inst = aws.state.region('eu-west-1').instances.get(id)!;
      inst.state = 'stopped';
      aws.calls.length = 0;
      const res = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(res.body.status, 'undo-failed');
      assert.match(
        res.body.undoResult.error,
        new RegExp(`cannot re-attach ${id} to batch-asg: Instance ${id} is not in the running state`),
      );
      assert.deepEqual(awsCalls(), [
        'autoscaling:DescribeAutoScalingGroups',
        'ec2:ModifyInstanceAttribute',
        'autoscaling:AttachInstances',
        'ec2:ModifyInstanceAttribute',
      ]);
      assert.equal(aws.callsOf('autoscaling', 'AttachInstances')[0]!.error, 'ValidationError');
      assert.deepEqual(aws.callsOf('ec2', 'ModifyInstanceAttribute')[1]!.params, { InstanceId: id, 'GroupId.1': isolationGroupId() });
      assert.deepEqual(inst.securityGroupIds, [isolationGroupId()], 'isolated again: nothing half-applied');
      assert.ok(inst.tags.some((t) => t.key === 'palisade:isolated'));
      assert.equal(g.desiredCapacity, 1);

      inst.state = 'running';
      const again = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(again.body.status, 'undone', JSON.stringify(again.body));
      assert.deepEqual(inst.securityGroupIds, [webGroup]);
      assert.ok(g.instanceIds.includes(id));
    });

    it('restoreDesiredCapacityOnUndo sets the capacity back after the re-attach (SetDesiredCapacity)', async () => {
      const pb = (await m.call('GET', `/api/v1/playbooks/${playbookId}`)).body;
      const withRestore = pb.actions.map((a: { type: string }) =>
        a.type === 'aws-isolate-instance' ? { ...a, restoreDesiredCapacityOnUndo: true } : a,
      );
      assert.equal((await m.call('PATCH', `/api/v1/playbooks/${playbookId}`, { body: { actions: withRestore } })).status, 200);
      try {
        const { g, rec } = await isolateMemberOf('queue-asg', { desiredCapacity: 2 }, 'ip-10-0-9-23');
        assert.equal(rec.result.autoScaling.restoreDesiredCapacityOnUndo, true);
        aws.calls.length = 0;
        const res = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
        assert.equal(res.body.status, 'undone', JSON.stringify(res.body));
        assert.deepEqual(awsCalls(), [
          'autoscaling:DescribeAutoScalingGroups',
          'ec2:ModifyInstanceAttribute',
          'autoscaling:AttachInstances',
          'autoscaling:SetDesiredCapacity',
          'ec2:DeleteTags',
        ]);
        assert.deepEqual(aws.callsOf('autoscaling', 'SetDesiredCapacity')[0]!.params, {
          AutoScalingGroupName: 'queue-asg',
          DesiredCapacity: '2',
          HonorCooldown: 'false',
        });
        assert.equal(g.desiredCapacity, 2);
        assert.equal(g.instanceIds.length, 2, 'Auto Scaling terminated one instance to get back to 2');
        assert.deepEqual(res.body.undoResult.desiredCapacity, { before: 2, after: 2 });
      } finally {
        await m.call('PATCH', `/api/v1/playbooks/${playbookId}`, { body: { actions: pb.actions } });
      }
    });

    it('a computer that is not an EC2 instance is skipped, and AWS errors are recorded as failures', async () => {
      const plain = await activate(sampleHost('on-prem-1'));
      aws.calls.length = 0;
      await send(plain, [malwareEvent()]);
      assert.deepEqual(awsCalls(), []);
      const rec = (await actions(playbookId)).find(
        (a: { computerId: string; actionType: string }) => a.computerId === plain.id && a.actionType === 'aws-isolate-instance',
      );
      assert.equal(rec.status, 'skipped');

      aws.failNext('ec2', 'ModifyInstanceAttribute', 'UnauthorizedOperation');
      const third = aws.state.addInstance('eu-west-1', { vpcId: 'vpc-web', subnetId: 'subnet-web', securityGroupIds: [webGroup] });
      await m.call('POST', `/api/v1/cloud-accounts/${accountId}/sync`);
      const a3 = await activate({
        ...sampleHost('ip-10-0-9-11'),
        cloud: { provider: 'aws', region: 'eu-west-1', instanceId: third.instanceId },
      });
      await send(a3, [malwareEvent()]);
      const failed = (await actions(playbookId)).find(
        (a: { computerId: string; actionType: string }) => a.computerId === a3.id && a.actionType === 'aws-isolate-instance',
      );
      assert.equal(failed.status, 'failed');
      assert.match(failed.error, /UnauthorizedOperation/);
    });
  });

  describe('firewall-block-ip and webhook actions', () => {
    it('queues firewall.block on the source computer; undo queues firewall.unblock', async () => {
      const pb = await m.call('POST', '/api/v1/playbooks', {
        body: {
          name: 'host firewall block',
          trigger: { filter: { modules: ['ips'], ruleIds: ['942100'] }, threshold: 1, windowSeconds: 60 },
          actions: [{ type: 'firewall-block-ip', targets: 'source', durationSeconds: 600 }],
        },
      });
      assert.equal(pb.status, 201, JSON.stringify(pb.body));
      const host = await activate({ ...sampleHost('app-1'), ips: ['10.0.3.3'] });
      await send(host, [ipsEvent('198.51.100.200')]);
      const polled = await m.call('GET', '/api/agent/v1/commands', { key: null, agent: host.auth });
      assert.deepEqual(
        polled.body.commands.map((c: { kind: string; args: unknown }) => [c.kind, c.args]),
        [['firewall.block', { address: '198.51.100.200', seconds: 600, reason: 'playbook host firewall block' }]],
      );
      const [rec] = await actions(pb.body.id);
      const undo = await m.call('POST', `/api/v1/playbook-actions/${rec.id}/undo`);
      assert.equal(undo.body.status, 'undone');
      const after = await m.call('GET', '/api/agent/v1/commands', { key: null, agent: host.auth });
      assert.deepEqual(
        after.body.commands.map((c: { kind: string; args: unknown }) => [c.kind, c.args]),
        [['firewall.unblock', { address: '198.51.100.200' }]],
      );
      await m.call('DELETE', `/api/v1/playbooks/${pb.body.id}`);
    });

    it('posts the trigger to a webhook with an HMAC-SHA256 signature the receiver can verify; the secret is never shown', async () => {
      const secret = 'webhook-shared-secret-0123456789';
      const received: { signature: string; body: string }[] = [];
      const server = http.createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          received.push({ signature: String(req.headers['x-palisade-signature']), body });
          res.writeHead(204).end();
        });
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      try {
        const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
        const pb = await m.call('POST', '/api/v1/playbooks', {
          body: {
            name: 'notify',
            trigger: { filter: { modules: ['anti-malware'] }, groupBy: 'computer' },
            actions: [{ type: 'webhook', url, secret }],
          },
        });
        assert.equal(pb.status, 201, JSON.stringify(pb.body));
        assert.ok(!JSON.stringify(pb.body).includes(secret));
        assert.ok(!JSON.stringify((await m.call('GET', `/api/v1/playbooks/${pb.body.id}`)).body).includes(secret));
        const host = await activate(sampleHost('files-1'));
        const ev = malwareEvent();
        await send(host, [ev]);
        assert.equal(received.length, 1);
        const { signature, body } = received[0]!;
        const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(signature)!;
        assert.equal(v1, createHmac('sha256', secret).update(`${t}.${body}`).digest('hex'));
        const payload = JSON.parse(body);
        assert.equal(payload.event.id, ev.id);
        assert.equal(payload.computer.id, host.id);
        const [rec] = await actions(pb.body.id);
        assert.equal(rec.status, 'succeeded');
        assert.equal(rec.undoable, false);
        await m.call('DELETE', `/api/v1/playbooks/${pb.body.id}`);
      } finally {
        server.close();
      }
    });
  });
});
