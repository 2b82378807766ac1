import type { EffectiveConfig } from '@palisade/protocol';
import { resolveArtifactRefs } from '../artifacts/resolve-artifact-refs.ts';
import { computeEffectiveConfig, configHash, explainEffectiveConfig, type SettingOrigin } from '../config/effective-config.ts';
import type { Computer } from '../store/computer-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { PolicyChainCache } from './policy-chain-cache.ts';
import { expandAppControlConfig } from '../app-control/app-control-service.ts';

export interface VersionedConfig {
  config: EffectiveConfig;
  hash: string;
}

/** The effective configuration of a computer: its policy chain, then its own overrides. */
export async function effectiveConfigFor(
  store: TenantStore,
  computer: Pick<Computer, 'policyId' | 'overrides'> & { ruleAssignments?: Computer['ruleAssignments']; id?: string },
  cache?: PolicyChainCache,
): Promise<VersionedConfig> {
  const chain = cache
    ? await cache.chainSettings(store, computer.policyId)
    : computer.policyId
      ? (await store.policies.chain(computer.policyId)).map((p) => p.settings)
      : [];
  const config = computeEffectiveConfig(chain, computer.overrides);
  // Rules assigned to this computer (by recommendation scans or by hand) travel with its module
  // settings, so an agent receives exactly what is assigned to it and nothing else.
  for (const a of computer.ruleAssignments ?? []) {
    const mod = config.modules[a.module];
    if (!mod) continue;
    const list = Array.isArray(mod.settings.assignedRules) ? (mod.settings.assignedRules as string[]) : [];
    mod.settings = { ...mod.settings, assignedRules: [...new Set([...list, a.ruleId])].sort() };
  }
  // Artifact names become {sha256, size, url}: a new version of a set changes the hash.
  await resolveArtifactRefs(store, config);
  // Application control: assigned shared rulesets, this computer's local ruleset, the global block list.
  await expandAppControlConfig(store, computer.id, config);
  return { config, hash: configHash(config) };
}

export async function explainConfigFor(store: TenantStore, computer: Pick<Computer, 'policyId' | 'overrides'>): Promise<SettingOrigin[]> {
  const chain = computer.policyId ? await store.policies.chain(computer.policyId) : [];
  return explainEffectiveConfig(
    chain.map((p) => ({ policyId: p.id, settings: p.settings })),
    computer.overrides,
  );
}
