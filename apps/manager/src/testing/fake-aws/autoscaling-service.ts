import { FakeAwsError } from './fake-aws-error.ts';
import type { FakeAutoScalingGroup, FakeAwsState } from './fake-aws-state.ts';
import { el, listParam, type QueryParams } from './query-params.ts';

const NS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/';

function reply(action: string, requestId: string, result: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`
  );
}

/** Actions whose answer has no `<…Result>` element, only the request id (AttachInstances, SetDesiredCapacity). */
function emptyReply(action: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><ResponseMetadata>${el('RequestId', requestId)}</ResponseMetadata></${action}Response>`;
}

function asgXml(g: FakeAutoScalingGroup, region: string, accountId: string): string {
  return (
    `<member>${el('AutoScalingGroupName', g.name)}` +
    el(
      'AutoScalingGroupARN',
      `arn:aws:autoscaling:${region}:${accountId}:autoScalingGroup:00000000-0000-0000-0000-000000000000:autoScalingGroupName/${g.name}`,
    ) +
    `<LaunchTemplate>${el('LaunchTemplateName', g.launchTemplate)}${el('Version', '$Latest')}</LaunchTemplate>` +
    `${el('MinSize', g.minSize)}${el('MaxSize', g.maxSize)}${el('DesiredCapacity', g.desiredCapacity)}${el('DefaultCooldown', 300)}` +
    `<AvailabilityZones><member>${region}a</member></AvailabilityZones>${el('HealthCheckType', 'EC2')}${el('CreatedTime', new Date(0).toISOString())}` +
    el('VPCZoneIdentifier', g.subnetId) +
    `<Instances>${g.instanceIds
      .map(
        (id) =>
          `<member>${el('InstanceId', id)}${el('AvailabilityZone', `${region}a`)}${el('LifecycleState', 'InService')}${el('HealthStatus', 'Healthy')}${el('ProtectedFromScaleIn', false)}</member>`,
      )
      .join('')}</Instances>` +
    `<Tags>${g.tags
      .map(
        (t) =>
          `<member>${el('ResourceId', g.name)}${el('ResourceType', 'auto-scaling-group')}${el('Key', t.key)}${el('Value', t.value)}${el('PropagateAtLaunch', true)}</member>`,
      )
      .join('')}</Tags></member>`
  );
}

/**
 * The Auto Scaling Query API subset Palisade uses: discovery, detach-with-replacement, and (for
 * the undo of an isolation) attach and set-desired-capacity, with the checks AWS makes.
 */
export function autoScalingService(
  state: FakeAwsState,
  region: string,
  accountId: string,
  action: string,
  p: QueryParams,
  requestId: string,
): string {
  const r = state.region(region);
  switch (action) {
    case 'DescribeAutoScalingGroups': {
      const names = listParam(p, 'AutoScalingGroupNames.member');
      const list = [...r.autoScalingGroups.values()].filter((g) => names.length === 0 || names.includes(g.name));
      const max = Number(p.get('MaxRecords') ?? 50);
      const start = Number(p.get('NextToken') ?? 0);
      const next = start + max < list.length ? String(start + max) : undefined;
      const page = list.slice(start, start + max);
      return reply(
        action,
        requestId,
        `<AutoScalingGroups>${page.map((g) => asgXml(g, region, accountId)).join('')}</AutoScalingGroups>${el('NextToken', next)}`,
      );
    }
    case 'DetachInstances': {
      const g = r.autoScalingGroups.get(p.get('AutoScalingGroupName') ?? '');
      if (!g) throw new FakeAwsError('ValidationError', `AutoScalingGroup name not found - ${p.get('AutoScalingGroupName')}`);
      const decrement = p.get('ShouldDecrementDesiredCapacity');
      if (decrement !== 'true' && decrement !== 'false')
        throw new FakeAwsError('ValidationError', 'ShouldDecrementDesiredCapacity is required');
      const ids = listParam(p, 'InstanceIds.member');
      for (const id of ids)
        if (!g.instanceIds.includes(id))
          throw new FakeAwsError('ValidationError', `The instance ${id} is not part of Auto Scaling group ${g.name}.`);
      const activities: string[] = [];
      for (const id of ids) {
        g.instanceIds = g.instanceIds.filter((x) => x !== id);
        const inst = r.instances.get(id);
        if (inst) inst.tags = inst.tags.filter((t) => t.key !== 'aws:autoscaling:groupName');
        activities.push(
          `<member>${el('ActivityId', state.nextId('act', 8))}${el('AutoScalingGroupName', g.name)}${el('Description', `Detaching EC2 instance: ${id}`)}${el('Cause', 'detached by request')}${el('StartTime', new Date(0).toISOString())}${el('StatusCode', 'InProgress')}${el('Progress', 50)}</member>`,
        );
      }
      if (decrement === 'true') g.desiredCapacity -= ids.length;
      // Below desired capacity: Auto Scaling launches replacements from the launch template.
      while (g.instanceIds.length < g.desiredCapacity) state.launchInto(region, g);
      return reply(action, requestId, `<Activities>${activities.join('')}</Activities>`);
    }
    case 'AttachInstances': {
      const name = p.get('AutoScalingGroupName') ?? '';
      const g = r.autoScalingGroups.get(name);
      if (!g) throw new FakeAwsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
      const ids = listParam(p, 'InstanceIds.member');
      if (ids.length > 20) throw new FakeAwsError('ValidationError', 'The number of instances to attach exceeds the maximum of 20.');
      for (const id of ids) {
        const inst = r.instances.get(id);
        if (!inst || inst.state === 'terminated') throw new FakeAwsError('ValidationError', `Invalid Instance ID(s) [${id}] specified.`);
        if (inst.state !== 'running')
          throw new FakeAwsError(
            'ValidationError',
            `Instance ${id} is not in the running state (${inst.state}); only running instances can be attached.`,
          );
        const member = [...r.autoScalingGroups.values()].find((x) => x.instanceIds.includes(id));
        if (member) throw new FakeAwsError('ValidationError', `The instance ${id} is already part of Auto Scaling group ${member.name}.`);
        if (inst.vpcId !== g.vpcId)
          throw new FakeAwsError('ValidationError', `The instance ${id} is not in the VPC of Auto Scaling group ${g.name}.`);
      }
      // AWS raises the desired capacity by the number attached, and refuses to go past MaxSize.
      if (g.desiredCapacity + ids.length > g.maxSize) {
        throw new FakeAwsError(
          'ValidationError',
          `AutoScalingGroup ${g.name} has min-size=${g.minSize}, max-size=${g.maxSize}, and desired-size=${g.desiredCapacity}. To attach ${ids.length} instance${ids.length === 1 ? '' : 's'}, please update the AutoScalingGroup sizes appropriately.`,
        );
      }
      for (const id of ids) {
        g.instanceIds.push(id);
        const inst = r.instances.get(id)!;
        inst.tags = [
          ...inst.tags.filter((t) => t.key !== 'aws:autoscaling:groupName'),
          { key: 'aws:autoscaling:groupName', value: g.name },
        ];
      }
      g.desiredCapacity += ids.length;
      return emptyReply(action, requestId);
    }
    case 'SetDesiredCapacity': {
      const name = p.get('AutoScalingGroupName') ?? '';
      const g = r.autoScalingGroups.get(name);
      if (!g) throw new FakeAwsError('ValidationError', `AutoScalingGroup name not found - AutoScalingGroup '${name}' not found`);
      const raw = p.get('DesiredCapacity');
      const desired = Number(raw);
      if (raw === undefined || !Number.isInteger(desired)) throw new FakeAwsError('ValidationError', 'DesiredCapacity is required');
      if (desired < g.minSize)
        throw new FakeAwsError(
          'ValidationError',
          `New SetDesiredCapacity value ${desired} is below min value ${g.minSize} for the AutoScalingGroup.`,
        );
      if (desired > g.maxSize)
        throw new FakeAwsError(
          'ValidationError',
          `New SetDesiredCapacity value ${desired} is above max value ${g.maxSize} for the AutoScalingGroup.`,
        );
      g.desiredCapacity = desired;
      while (g.instanceIds.length < g.desiredCapacity) state.launchInto(region, g);
      // Scale-in: AWS picks by the group's termination policy; the fake (one AZ, one launch
      // template) terminates the most recently added instance, which is deterministic for tests.
      while (g.instanceIds.length > g.desiredCapacity) {
        const id = g.instanceIds.pop()!;
        const inst = r.instances.get(id);
        if (inst) inst.state = 'terminated';
      }
      return emptyReply(action, requestId);
    }
    default:
      throw new FakeAwsError('InvalidAction', `Could not find operation ${action} for version 2011-01-01`);
  }
}
