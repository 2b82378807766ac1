import {
  AttachInstancesCommand,
  DescribeAutoScalingGroupsCommand,
  DetachInstancesCommand,
  SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
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

/** Recorded in the action's result when the instance was detached from an Auto Scaling group. */
interface AutoScalingRecord {
  groupName: string;
  /** Always false today: the detach keeps the capacity so the group launches a replacement. */
  decrementedDesiredCapacity: boolean;
  reattachOnUndo: boolean;
  restoreDesiredCapacityOnUndo: boolean;
}

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
        // What undo needs to put the instance back, and whether the group's size changed.
        const autoScaling: AutoScalingRecord = {
          groupName: asg,
          decrementedDesiredCapacity: false,
          reattachOnUndo: a.reattachOnUndo !== false,
          restoreDesiredCapacityOnUndo: a.restoreDesiredCapacityOnUndo === true,
        };
        result.autoScaling = autoScaling;
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
          reattachOnUndo: a.reattachOnUndo,
          restoreDesiredCapacityOnUndo: a.restoreDesiredCapacityOnUndo,
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
   * Puts the instance's own groups back, attaches it to the Auto Scaling group it was detached
   * from (unless `reattachOnUndo: false`) and removes the isolation tags; snapshots are kept as
   * evidence. AttachInstances raises the group's desired capacity by one, so the replacement
   * launched at isolation keeps running next to the restored instance; with
   * `restoreDesiredCapacityOnUndo` the capacity is set back afterwards and Auto Scaling
   * terminates one instance of its own choosing. All or nothing: the group is checked first
   * (exists, room under MaxSize), and when the attach fails the isolation group is put back.
   */
  async undo(deps: ActionDeps, rec: PlaybookActionRecord) {
    const r = rec.result as {
      cloudAccountId: string;
      region: string;
      instanceId: string;
      previousGroupIds: string[];
      isolationGroupId: string;
      detachedFrom?: string;
      autoScaling?: AutoScalingRecord;
    };
    const connector = requireConnector(deps);
    const account = await connector.resolveAccount(deps.store, { account: r.cloudAccountId });
    const clients = await connector.clients(deps.store, account, r.region);
    try {
      // Records written before the Auto Scaling details were kept: the instance stays detached.
      const asg = r.autoScaling?.reattachOnUndo ? r.autoScaling : undefined;
      let desiredBefore: number | undefined;
      let alreadyMember = false;
      if (asg) {
        const d = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [asg.groupName] }));
        const g = d.AutoScalingGroups?.[0];
        if (!g) throw new Error(`cannot re-attach ${r.instanceId}: Auto Scaling group ${asg.groupName} no longer exists`);
        alreadyMember = (g.Instances ?? []).some((i) => i.InstanceId === r.instanceId);
        desiredBefore = g.DesiredCapacity ?? 0;
        if (!alreadyMember && desiredBefore + 1 > (g.MaxSize ?? 0)) {
          throw new Error(
            `cannot re-attach ${r.instanceId}: Auto Scaling group ${asg.groupName} is at its maximum size (${g.MaxSize}, desired ${desiredBefore}); raise MaxSize and retry the undo`,
          );
        }
      }
      await clients.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: r.instanceId, Groups: r.previousGroupIds }));
      const out: Record<string, unknown> = { restoredGroupIds: r.previousGroupIds };
      if (asg && !alreadyMember) {
        try {
          await clients.autoScaling.send(new AttachInstancesCommand({ AutoScalingGroupName: asg.groupName, InstanceIds: [r.instanceId] }));
        } catch (err) {
          // Nothing half-applied: the instance goes back behind the isolation group.
          if (r.isolationGroupId)
            await clients.ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: r.instanceId, Groups: [r.isolationGroupId] }));
          throw new Error(`cannot re-attach ${r.instanceId} to ${asg.groupName}: ${(err as Error).message}`);
        }
        out.reattachedTo = asg.groupName;
        out.desiredCapacity = { before: desiredBefore, after: (desiredBefore ?? 0) + 1 };
        if (asg.restoreDesiredCapacityOnUndo && !asg.decrementedDesiredCapacity && desiredBefore !== undefined) {
          try {
            await clients.autoScaling.send(
              new SetDesiredCapacityCommand({ AutoScalingGroupName: asg.groupName, DesiredCapacity: desiredBefore, HonorCooldown: false }),
            );
            out.desiredCapacity = { before: desiredBefore, after: desiredBefore };
            out.note = `desired capacity of ${asg.groupName} set back to ${desiredBefore}: Auto Scaling terminates one instance by its termination policy`;
          } catch (err) {
            // The instance is restored and attached; only the group is one larger than asked.
            out.warning = `re-attached, but SetDesiredCapacity ${desiredBefore} on ${asg.groupName} failed: ${(err as Error).message}`;
          }
        } else {
          out.note = `${asg.groupName} now runs one more instance (desired ${desiredBefore} -> ${(desiredBefore ?? 0) + 1}): the replacement launched at isolation keeps running`;
        }
      } else if (asg && alreadyMember) {
        out.note = `${r.instanceId} is already in ${asg.groupName}`;
      } else if (r.detachedFrom) {
        out.note = `still detached from ${r.detachedFrom}: Auto Scaling launched a replacement`;
      }
      await clients.ec2.send(
        new DeleteTagsCommand({ Resources: [r.instanceId], Tags: [{ Key: TAG_ISOLATED }, { Key: TAG_PREVIOUS_GROUPS }] }),
      );
      return out;
    } finally {
      clients.destroy();
    }
  },
};
