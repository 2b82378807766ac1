import type { HostFacts } from '@palisade/protocol';
import type { Computer } from '../store/computer-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * Activation binds the agent to its instance: when the instance identity data the agent sends
 * names an instance that cloud sync already turned into a computer, the agent takes over that
 * computer (same id, tags, event-task results) instead of creating a second one. Only a computer
 * no agent has held yet is taken over, and only when the AWS account agrees, so a token holder
 * cannot claim someone else's running computer by sending its instance id.
 */
export async function adoptDiscoveredComputer(
  store: TenantStore,
  host: HostFacts,
  opts: { policyId: string | null; group: string | null; heartbeatSeconds: number },
): Promise<{ computer: Computer; secret: string } | undefined> {
  const instanceId = host.cloud?.provider === 'aws' ? host.cloud.instanceId : undefined;
  if (!instanceId) return undefined;
  const inst = await store.cloud.instance(instanceId);
  if (!inst?.computerId) return undefined;
  const existing = await store.computers.get(inst.computerId);
  if (!existing || existing.deactivatedAt || existing.agentVersion !== '') return undefined;
  const known = existing.cloud?.accountId;
  if (known && host.cloud?.accountId && known !== host.cloud.accountId) return undefined;
  const secret = await store.cloud.adoptComputer(existing.id, host, opts);
  await store.audit.record('activation', 'computer.bind-instance', `computer:${existing.id}`, { instanceId });
  return { computer: await store.computers.require(existing.id), secret };
}
