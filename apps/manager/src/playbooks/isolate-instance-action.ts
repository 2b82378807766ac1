import { DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
} from '@aws-sdk/client-ec2';
import { type ActionDeps, type ActionHandler, ActionSkipped, requireConnector } from './action-context.ts';
import type { IsolateInstanceAction, PlaybookActionRecord } from './playbook-schema.ts';

const TAG_ISOLATED = 'palisade:isolated';
const TAG_PREVIOUS_GROUPS = 'palisade:previous-security-groups';
const TAG_INCIDENT = 'palisade:incident';

/**
 * The isolation group of a VPC: found by name, or created. A new group allows no inbound traffic
 * by default but all outbound, so its egress rules are revoked: an infected instance must not
 * reach out either (exfiltration, command and control).
 */
async function isolationGroup(
  ec2: EC2Client,
  name: string,
  vpcId: string,
  incident: string,
): Promise<{ groupId: string; created: boolean }> {
  const found = await ec2.send(
    new DescribeSecurityGroupsCommand({
      Filters: [
        { Name: 'group-name', Values: [name] },
        { Name: 'vpc-id', Values: [vpcId] },
      ],
    }),
  );
  const existing = found.SecurityGroups?.[0];
  if (existing?.GroupId) {
    if (existing.IpPermissionsEgress?.length)
      await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: existing.GroupId, IpPermissions: existing.IpPermissionsEgress }));
    return { groupId: existing.GroupId, created: false };
  }
  const { GroupId } = await ec2.send(
    new CreateSecurityGroupCommand({
      GroupName: name,
      Description: 'Palisade isolation: no inbound, no outbound traffic',
      VpcId: vpcId,
      TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: TAG_INCIDENT, Value: incident }] }],
    }),
  );
  if (!GroupId) throw new Error('CreateSecurityGroup returned no group id');
  const fresh = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [GroupId] }));
  const egress = fresh.SecurityGroups?.[0]?.IpPermissionsEgress ?? [];
  if (egress.length) await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId, IpPermissions: egress }));
  return { groupId: GroupId, created: true };
}

export const isolateInstanceAction: ActionHandler<IsolateInstanceAction> = {
  async run(ctx, a) {
    const instanceId = ctx.computer?.cloud?.provider === 'aws' ? ctx.computer.cloud.instanceId : undefined;
    if (!ctx.computer || !instanceId) throw new ActionSkipped('the computer is not a known EC2 instance');
    const known = await ctx.store.cloud.instance(instanceId);
    const connector = requireConnector(ctx);
    const account = await connector.resolveAccount(
      ctx.store,
      a.cloudAccount
        ? { account: a.cloudAccount }
        : known
          ? { account: known.accountId }
          : { awsAccountId: ctx.computer.cloud?.accountId ?? '' },
    );
    const region = known?.region ?? ctx.computer.cloud?.region;
    if (!region) throw new ActionSkipped(`the region of ${instanceId} is not known`);
    const clients = await connector.clients(ctx.store, account, region);
    const incident = `${ctx.playbook.name}:${ctx.runId}`;
    try {
      const d = await clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
      const inst = d.Reservations?.[0]?.Instances?.[0];
      if (!inst?.VpcId) throw new Error(`${instanceId} has no VPC (EC2-Classic instances cannot be isolated this way)`);
      const previousGroupIds = (inst.SecurityGroups ?? []).map((g) => g.GroupId!).filter(Boolean);
      const asg = inst.Tags?.find((t) => t.Key === 'aws:autoscaling:groupName')?.Value;
      const result: Record<string, unknown> = { cloudAccountId: account.id, region, instanceId, vpcId: inst.VpcId, previousGroupIds };

      const group = await isolationGroup(clients.ec2, a.isolationGroupName ?? 'palisade-isolation', inst.VpcId, incident);
      Object.assign(result, { isolationGroupId: group.groupId, createdGroup: group.created });
      // Containment first: everything after this is bookkeeping and replacement.
      await clients.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: instanceId, Groups: [group.groupId] }));

      if (asg && a.detachFromAutoScalingGroup !== false) {
        // Not decrementing the desired capacity is what makes Auto Scaling launch a clean replacement.
        await clients.autoScaling.send(
          new DetachInstancesCommand({ AutoScalingGroupName: asg, InstanceIds: [instanceId], ShouldDecrementDesiredCapacity: false }),
        );
        result.detachedFrom = asg;
      }

      if (a.snapshot) {
        const snapshots: string[] = [];
        for (const m of inst.BlockDeviceMappings ?? []) {
          if (!m.Ebs?.VolumeId) continue;
          const s = await clients.ec2.send(
            new CreateSnapshotCommand({
              VolumeId: m.Ebs.VolumeId,
              Description: `Palisade forensic snapshot of ${instanceId} ${m.DeviceName ?? ''}`.trim(),
              TagSpecifications: [
                {
                  ResourceType: 'snapshot',
                  Tags: [
                    { Key: TAG_INCIDENT, Value: incident },
                    { Key: 'palisade:instance', Value: instanceId },
                  ],
                },
              ],
            }),
          );
          if (s.SnapshotId) snapshots.push(s.SnapshotId);
        }
        result.snapshots = snapshots;
      }

      await clients.ec2.send(
        new CreateTagsCommand({
          Resources: [instanceId],
          Tags: [
            { Key: TAG_ISOLATED, Value: ctx.now.toISOString() },
            { Key: TAG_INCIDENT, Value: incident },
            { Key: TAG_PREVIOUS_GROUPS, Value: previousGroupIds.join(' ') },
          ],
        }),
      );
      return {
        status: 'succeeded',
        inputs: {
          instanceId,
          region,
          cloudAccount: account.id,
          isolationGroupName: a.isolationGroupName,
          detachFromAutoScalingGroup: a.detachFromAutoScalingGroup,
          snapshot: a.snapshot,
        },
        result,
        undoable: true,
        expiresAt: null,
      };
    } finally {
      clients.destroy();
    }
  },

  /**
   * Puts the instance's own groups back and removes the isolation tags. It stays out of its Auto
   * Scaling group: the group already launched a replacement, and re-attaching would exceed the
   * desired capacity; snapshots are kept as evidence.
   */
  async undo(deps: ActionDeps, rec: PlaybookActionRecord) {
    const r = rec.result as {
      cloudAccountId: string;
      region: string;
      instanceId: string;
      previousGroupIds: string[];
      detachedFrom?: string;
    };
    const connector = requireConnector(deps);
    const account = await connector.resolveAccount(deps.store, { account: r.cloudAccountId });
    const clients = await connector.clients(deps.store, account, r.region);
    try {
      await clients.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: r.instanceId, Groups: r.previousGroupIds }));
      await clients.ec2.send(
        new DeleteTagsCommand({ Resources: [r.instanceId], Tags: [{ Key: TAG_ISOLATED }, { Key: TAG_PREVIOUS_GROUPS }] }),
      );
      return {
        restoredGroupIds: r.previousGroupIds,
        ...(r.detachedFrom ? { note: `still detached from ${r.detachedFrom}: Auto Scaling launched a replacement` } : {}),
      };
    } finally {
      clients.destroy();
    }
  },
};
