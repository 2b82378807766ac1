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

/** The Auto Scaling Query API subset Palisade uses: discovery and detach-with-replacement. */
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
    default:
      throw new FakeAwsError('InvalidAction', `Could not find operation ${action} for version 2011-01-01`);
  }
}
