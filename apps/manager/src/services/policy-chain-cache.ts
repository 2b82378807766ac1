import type { PolicySettings } from '../config/policy-settings-schema.ts';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * Policy chains for heartbeats and config fetches, kept for a short time. Without it every
 * heartbeat costs one query per policy in the chain. A change made through this node clears the
 * tenant's entries at once; a change made on another node is seen within `ttlMs`, well inside
 * the "reaches the agent within two heartbeats" promise.
 */
export class PolicyChainCache {
  private readonly entries = new Map<string, { settings: PolicySettings[]; expires: number }>();

  constructor(private readonly ttlMs = 2000) {}

  async chainSettings(store: TenantStore, policyId: string | null): Promise<PolicySettings[]> {
    if (!policyId) return [];
    const key = `${store.tenantId}\u0000${policyId}`;
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.expires > now) return hit.settings;
    const settings = (await store.policies.chain(policyId)).map((p) => p.settings);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { settings, expires: now + this.ttlMs });
    return settings;
  }

  invalidateTenant(tenantId: string): void {
    for (const key of this.entries.keys()) if (key.startsWith(`${tenantId}\u0000`)) this.entries.delete(key);
  }
}
