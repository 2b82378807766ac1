import type { ActivationRequest, ActivationResponse } from '@palisade/protocol';
import { ApiError } from '../http/api-error.ts';
import { adoptDiscoveredComputer } from '../cloud/activation-binding.ts';
import { conditionsMatch } from '../queries/event-task-rules.ts';
import { parseCredential } from '../store/secrets.ts';
import type { StoreProvider } from '../store/store-provider.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import { effectiveConfigFor } from './effective-config-service.ts';

const REFUSALS = {
  TOKEN_INVALID: 'the activation token is not valid',
  TOKEN_EXPIRED: 'the activation token has expired; create a new one',
  TOKEN_REVOKED: 'the activation token has been revoked',
  TOKEN_USED_UP: 'the activation token has been used as many times as it allows',
} as const;

/**
 * Activation: the token is checked and counted, the computer is created with its own
 * credentials, and the event-based tasks for `agent-activated` run on it before the agent gets
 * its answer, so its first configuration already reflects them.
 */
export async function activateAgent(stores: StoreProvider, req: ActivationRequest): Promise<ActivationResponse & { computerId: string }> {
  const cred = parseCredential('pat', req.token);
  const store = cred && (await stores.tenant(cred.tenantId));
  if (!cred || !store) throw new ApiError(401, 'TOKEN_INVALID', REFUSALS.TOKEN_INVALID);
  const used = await store.tokens.consume(cred.id, cred.secret);
  if (!used.ok) throw new ApiError(401, used.reason, REFUSALS[used.reason]);
  const base = await effectiveConfigFor(store, { policyId: used.token.policyId, overrides: {} });
  const activation = {
    policyId: used.token.policyId,
    group: used.token.group,
    heartbeatSeconds: base.config.heartbeatSeconds,
  };
  // An instance cloud sync already knows keeps its computer (see adoptDiscoveredComputer).
  const { computer, secret } =
    (await adoptDiscoveredComputer(store, req.host, activation)) ?? (await store.computers.activate(req.host, activation));
  await store.audit.record(`token:${used.token.id}`, 'computer.activate', `computer:${computer.id}`, {
    hostname: computer.hostname,
    policyId: computer.policyId,
  });
  await runEventTasks(store, 'agent-activated', computer.id);
  const after = await store.computers.require(computer.id);
  const cfg = await effectiveConfigFor(store, after);
  return {
    agentId: computer.id,
    computerId: computer.id,
    agentSecret: secret,
    tenantId: store.tenantId,
    heartbeatSeconds: cfg.config.heartbeatSeconds,
  };
}

export async function runEventTasks(
  store: TenantStore,
  trigger: 'agent-activated' | 'cloud-discovered',
  computerId: string,
): Promise<string[]> {
  const applied: string[] = [];
  for (const task of await store.tasks.listEventTasks(trigger)) {
    if (!task.enabled) continue;
    const computer = await store.computers.require(computerId);
    if (!conditionsMatch(computer, task.conditions)) continue;
    for (const action of task.actions) {
      if (action.type === 'assign-policy') {
        // A task that names a deleted policy must not break activation: it is skipped and audited.
        if (!(await store.policies.get(action.policyId))) {
          await store.audit.record(`event-task:${task.id}`, 'event-task.skipped', `computer:${computerId}`, {
            reason: 'policy not found',
            policyId: action.policyId,
          });
          continue;
        }
        await store.computers.update(computerId, { policyId: action.policyId });
      } else if (action.type === 'assign-group') {
        await store.computers.update(computerId, { group: action.group });
      } else {
        await store.computers.deactivate(computerId);
      }
      await store.audit.record(`event-task:${task.id}`, `event-task.${action.type}`, `computer:${computerId}`, { task: task.name, action });
    }
    applied.push(task.id);
  }
  return applied;
}
