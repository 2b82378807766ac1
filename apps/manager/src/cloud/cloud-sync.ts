import { type AutoScalingGroup, paginateDescribeAutoScalingGroups } from '@aws-sdk/client-auto-scaling';
import { DescribeSecurityGroupsCommand, type Instance, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import type { CloudMetadata } from '@palisade/protocol';
import { runEventTasks } from '../services/activation-service.ts';
import type { CloudAccount } from '../store/cloud-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { type CloudConnector, redactAws } from './cloud-connector.ts';

export interface RegionSyncSummary {
  instances: number;
  autoScalingGroups: number;
  discovered: string[];
  updated: number;
  retired: string[];
  asgsAdded: string[];
  asgsRemoved: string[];
}

export interface SyncSummary {
  accountId: string;
  awsAccountId: string | null;
  regions: Record<string, RegionSyncSummary>;
}

/** Instances in these states are gone for good: their computers are retired. */
const GONE = new Set(['terminated', 'shutting-down']);

const tagsOf = (tags: { Key?: string; Value?: string }[] | undefined): Record<string, string> =>
  Object.fromEntries((tags ?? []).filter((t) => t.Key).map((t) => [t.Key!, t.Value ?? '']));

function metadataOf(i: Instance, awsAccountId: string | null, region: string): CloudMetadata {
  const tags = tagsOf(i.Tags);
  const meta: CloudMetadata = { provider: 'aws', region, instanceId: i.InstanceId! };
  if (awsAccountId) meta.accountId = awsAccountId;
  if (i.ImageId) meta.imageId = i.ImageId;
  if (i.VpcId) meta.vpcId = i.VpcId;
  if (i.SubnetId) meta.subnetId = i.SubnetId;
  // Names, as the agent reads them from the metadata service, so both sources agree.
  const groups = (i.SecurityGroups ?? []).map((g) => g.GroupName ?? g.GroupId ?? '').filter(Boolean);
  if (groups.length) meta.securityGroups = groups;
  const asg = tags['aws:autoscaling:groupName'];
  if (asg) meta.autoScalingGroup = asg;
  return meta;
}

function asgData(g: AutoScalingGroup): Record<string, unknown> {
  return {
    arn: g.AutoScalingGroupARN,
    minSize: g.MinSize,
    maxSize: g.MaxSize,
    desiredCapacity: g.DesiredCapacity,
    instanceIds: (g.Instances ?? []).map((i) => i.InstanceId),
    launchTemplate:
      g.LaunchTemplate?.LaunchTemplateName ??
      g.LaunchConfigurationName ??
      g.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.LaunchTemplateName,
    subnets: (g.VPCZoneIdentifier ?? '').split(',').filter(Boolean),
    tags: tagsOf(g.Tags),
  };
}

/**
 * One sync of one account: every region's instances and Auto Scaling groups are compared with
 * what the last sync saw. New instances become computers (before any agent runs on them) and
 * run the `cloud-discovered` event tasks; changed ones get their metadata refreshed; terminated
 * or vanished ones have their computer retired (deactivated, history kept).
 */
export async function syncCloudAccount(store: TenantStore, connector: CloudConnector, account: CloudAccount): Promise<SyncSummary> {
  const summary: SyncSummary = { accountId: account.id, awsAccountId: account.awsAccountId, regions: {} };
  try {
    // Computers whose agent reported an instance id before any sync saw it.
    const byInstance = new Map<string, string>();
    for (const c of await store.computers.list()) if (c.cloud?.instanceId) byInstance.set(c.cloud.instanceId, c.id);
    for (const region of account.regions)
      summary.regions[region] = await syncRegion(store, connector, account, region, byInstance, summary);
    await store.cloud.recordSync(account.id, 'ok', null, summary as unknown as Record<string, unknown>);
    await store.audit.record(`cloud-account:${account.id}`, 'cloud.sync', `cloud-account:${account.id}`, summarise(summary));
    return summary;
  } catch (err) {
    const message = redactAws(`${(err as Error).name}: ${(err as Error).message}`);
    await store.cloud.recordSync(account.id, 'failed', message, summary as unknown as Record<string, unknown>);
    throw Object.assign(new Error(message), { code: 'CLOUD_SYNC_FAILED' });
  }
}

function summarise(s: SyncSummary): Record<string, unknown> {
  const r = Object.values(s.regions);
  return {
    instances: r.reduce((n, x) => n + x.instances, 0),
    discovered: r.reduce((n, x) => n + x.discovered.length, 0),
    retired: r.reduce((n, x) => n + x.retired.length, 0),
    autoScalingGroups: r.reduce((n, x) => n + x.autoScalingGroups, 0),
  };
}

async function syncRegion(
  store: TenantStore,
  connector: CloudConnector,
  account: CloudAccount,
  region: string,
  byInstance: Map<string, string>,
  summary: SyncSummary,
): Promise<RegionSyncSummary> {
  const out: RegionSyncSummary = {
    instances: 0,
    autoScalingGroups: 0,
    discovered: [],
    updated: 0,
    retired: [],
    asgsAdded: [],
    asgsRemoved: [],
  };
  const clients = await connector.clients(store, account, region);
  try {
    const instances: { i: Instance; owner: string | undefined }[] = [];
    for await (const page of paginateDescribeInstances({ client: clients.ec2, pageSize: 500 }, {}))
      for (const r of page.Reservations ?? []) for (const i of r.Instances ?? []) if (i.InstanceId) instances.push({ i, owner: r.OwnerId });
    if (!account.awsAccountId) {
      // Learn the account id: from a reservation, else from any security group (every VPC has one).
      let owner = instances.find((x) => x.owner)?.owner;
      if (!owner) owner = (await clients.ec2.send(new DescribeSecurityGroupsCommand({ MaxResults: 5 }))).SecurityGroups?.[0]?.OwnerId;
      if (owner) {
        account = await store.cloud.updateAccount(account.id, { awsAccountId: owner });
        summary.awsAccountId = owner;
      }
    }
    const seen = new Set<string>();
    for (const { i } of instances) {
      const id = i.InstanceId!;
      seen.add(id);
      out.instances++;
      const state = i.State?.Name ?? 'unknown';
      const meta = metadataOf(i, account.awsAccountId, region);
      const tags = tagsOf(i.Tags);
      const known = await store.cloud.instance(id);
      let computerId = known?.computerId ?? byInstance.get(id) ?? null;
      const data = {
        state,
        instanceType: i.InstanceType,
        privateIp: i.PrivateIpAddress,
        publicIp: i.PublicIpAddress,
        launchTime: i.LaunchTime,
        cloud: meta,
        tags,
      };
      if (GONE.has(state)) {
        if (computerId && (await retire(store, computerId, id, state))) out.retired.push(id);
        await store.cloud.saveInstance({
          instanceId: id,
          accountId: account.id,
          region,
          computerId,
          state,
          asgName: meta.autoScalingGroup ?? null,
          data,
        });
        continue;
      }
      const computer = computerId ? await store.computers.get(computerId) : undefined;
      const ips = [i.PrivateIpAddress, i.PublicIpAddress].filter((x): x is string => Boolean(x));
      let created = false;
      if (!computer || computer.deactivatedAt) {
        computerId = await store.cloud.createDiscoveredComputer(store.tenantId, {
          hostname: tags.Name || i.PrivateDnsName || id,
          platform: i.PlatformDetails ? `aws/${i.PlatformDetails}` : 'aws/ec2',
          ips,
          cloud: meta,
          tags,
        });
        created = true;
      } else {
        await store.cloud.refreshComputerCloud(computer.id, meta, tags, ips);
        out.updated++;
      }
      await store.cloud.saveInstance({
        instanceId: id,
        accountId: account.id,
        region,
        computerId,
        state,
        asgName: meta.autoScalingGroup ?? null,
        data,
      });
      if (created) {
        out.discovered.push(id);
        await store.audit.record(`cloud-account:${account.id}`, 'computer.discover', `computer:${computerId}`, { instanceId: id, region });
        await runEventTasks(store, 'cloud-discovered', computerId!);
      }
    }
    // AWS stops listing terminated instances after a while: whatever vanished is gone too.
    for (const known of await store.cloud.instances({ accountId: account.id, region })) {
      if (seen.has(known.instanceId) || GONE.has(known.state) || known.state === 'gone') continue;
      if (known.computerId && (await retire(store, known.computerId, known.instanceId, 'gone'))) out.retired.push(known.instanceId);
      await store.cloud.setInstanceState(known.instanceId, 'gone');
    }

    const asgSeen = new Set<string>();
    const before = new Set((await store.cloud.asgs({ accountId: account.id, region })).map((g) => g.name));
    for await (const page of paginateDescribeAutoScalingGroups({ client: clients.autoScaling, pageSize: 100 }, {}))
      for (const g of page.AutoScalingGroups ?? []) {
        if (!g.AutoScalingGroupName) continue;
        asgSeen.add(g.AutoScalingGroupName);
        out.autoScalingGroups++;
        if (!before.has(g.AutoScalingGroupName)) out.asgsAdded.push(g.AutoScalingGroupName);
        await store.cloud.saveAsg(account.id, region, g.AutoScalingGroupName, asgData(g));
      }
    for (const name of before)
      if (!asgSeen.has(name)) {
        await store.cloud.deleteAsg(`${account.id}:${region}:${name}`);
        out.asgsRemoved.push(name);
      }
    return out;
  } finally {
    clients.destroy();
  }
}

async function retire(store: TenantStore, computerId: string, instanceId: string, state: string): Promise<boolean> {
  const c = await store.computers.get(computerId);
  if (!c || c.deactivatedAt) return false;
  await store.computers.deactivate(computerId);
  await store.audit.record('cloud-sync', 'computer.retire', `computer:${computerId}`, { instanceId, state });
  return true;
}
