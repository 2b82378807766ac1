import { createHash } from 'node:crypto';
import type { EffectiveConfig } from '@palisade/protocol';
import { defaultConfig } from './default-config.ts';
import type { PolicySettings, RecommendationMode } from './policy-settings-schema.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Objects merge key by key; arrays and scalars in the override replace what they override. */
export function deepMerge<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    out[k] = k in out ? deepMerge(out[k], v) : v;
  }
  return out as T;
}

/**
 * The one place where a computer's configuration is computed: defaults, then each policy from
 * the root of the tree down to the computer's policy, then the computer's own overrides.
 */
export function computeEffectiveConfig(
  policyChainRootFirst: readonly PolicySettings[],
  computerOverrides: PolicySettings = {},
): EffectiveConfig {
  let config = defaultConfig();
  for (const layer of [...policyChainRootFirst, computerOverrides]) {
    // Manager-only settings stay on the manager: the agent's schema does not know them.
    const { recommendations: _managerOnly, ...agentPart } = layer;
    config = deepMerge(config, agentPart);
  }
  return config;
}

/** The manager-side settings of the same chain (recommendation scans' mode). */
export function computeManagerSettings(
  policyChainRootFirst: readonly PolicySettings[],
  computerOverrides: PolicySettings = {},
): { recommendations: RecommendationMode } {
  let recommendations: RecommendationMode = 'report';
  for (const layer of [...policyChainRootFirst, computerOverrides]) if (layer.recommendations) recommendations = layer.recommendations;
  return { recommendations };
}

/** Where a leaf setting's value comes from, for the console ("inherited from X / overridden here"). */
export interface SettingOrigin {
  path: string;
  value: unknown;
  source: 'default' | { policyId: string } | 'computer';
}

export function explainEffectiveConfig(
  chainRootFirst: readonly { policyId: string; settings: PolicySettings }[],
  computerOverrides: PolicySettings = {},
): SettingOrigin[] {
  const origins = new Map<string, SettingOrigin>();
  const visit = (value: unknown, path: string, source: SettingOrigin['source']) => {
    if (isPlainObject(value) && Object.keys(value).length > 0 && !path.endsWith('.settings')) {
      for (const [k, v] of Object.entries(value)) visit(v, path ? `${path}.${k}` : k, source);
    } else if (isPlainObject(value) && path.endsWith('.settings')) {
      for (const [k, v] of Object.entries(value)) origins.set(`${path}.${k}`, { path: `${path}.${k}`, value: v, source });
    } else {
      origins.set(path, { path, value, source });
    }
  };
  visit(defaultConfig(), '', 'default');
  for (const p of chainRootFirst) visit(p.settings, '', { policyId: p.policyId });
  visit(computerOverrides, '', 'computer');
  return [...origins.values()].sort((a, b) => a.path.localeCompare(b.path));
}

function canonical(value: unknown): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (isPlainObject(value)) {
    const out: Record<string, Json> = {};
    for (const k of Object.keys(value).sort()) if (value[k] !== undefined) out[k] = canonical(value[k]);
    return out;
  }
  return value as Json;
}

/** A content hash: equal configurations hash equal whatever their key order. */
export function configHash(config: EffectiveConfig): string {
  return createHash('sha256')
    .update(JSON.stringify(canonical(config)))
    .digest('hex')
    .slice(0, 32);
}
