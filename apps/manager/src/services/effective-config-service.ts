import type { EffectiveConfig } from '@palisade/protocol';
import { computeEffectiveConfig, configHash, explainEffectiveConfig, type SettingOrigin } from '../config/effective-config.ts';
import type { Computer } from '../store/computer-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';
import type { PolicyChainCache } from './policy-chain-cache.ts';

export interface VersionedConfig {
  config: EffectiveConfig;
  hash: string;
}

/** The effective configuration of a computer: its policy chain, then its own overrides. */
export async function effectiveConfigFor(
  store: TenantStore,
  computer: Pick<Computer, 'policyId' | 'overrides'>,
  cache?: PolicyChainCache,
): Promise<VersionedConfig> {
  const chain = cache
    ? await cache.chainSettings(store, computer.policyId)
    : computer.policyId
      ? (await store.policies.chain(computer.policyId)).map((p) => p.settings)
      : [];
  const config = computeEffectiveConfig(chain, computer.overrides);
  return { config, hash: configHash(config) };
}

export async function explainConfigFor(store: TenantStore, computer: Pick<Computer, 'policyId' | 'overrides'>): Promise<SettingOrigin[]> {
  const chain = computer.policyId ? await store.policies.chain(computer.policyId) : [];
  return explainEffectiveConfig(
    chain.map((p) => ({ policyId: p.id, settings: p.settings })),
    computer.overrides,
  );
}
