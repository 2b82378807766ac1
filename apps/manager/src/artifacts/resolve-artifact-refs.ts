import { ARTIFACT_SETTINGS, type ArtifactKind, type ArtifactRef, artifactDownloadPath, type EffectiveConfig } from '@palisade/protocol';
import { type ArtifactInfo, ArtifactRepository } from '../store/artifact-repository.ts';
import type { Clock } from '../store/json-column.ts';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * How long a node reuses a tenant's artifact list for heartbeats. A change made through this
 * node clears it at once; one made on another node reaches agents within this time plus a
 * heartbeat, like policy changes (PolicyChainCache).
 */
const CATALOG_TTL_MS = 2000;

const catalogs = new WeakMap<TenantStore, { until: number; byKey: Map<string, ArtifactInfo> }>();

/** The artifact repository of a tenant store (cheap: it holds no state of its own). */
export function artifactsOf(store: TenantStore, clock: Clock = () => new Date()): ArtifactRepository {
  return new ArtifactRepository(store.db, clock);
}

/** Call after any change to a tenant's artifacts through this node. */
export function forgetArtifactCatalog(store: TenantStore): void {
  catalogs.delete(store);
}

async function catalog(store: TenantStore): Promise<Map<string, ArtifactInfo>> {
  const now = performance.now();
  const hit = catalogs.get(store);
  if (hit && hit.until > now) return hit.byKey;
  const byKey = new Map((await artifactsOf(store).list()).map((a) => [`${a.kind}\u0000${a.name}`, a]));
  catalogs.set(store, { until: now + CATALOG_TTL_MS, byKey });
  return byKey;
}

function ref(kind: ArtifactKind, name: string, a: ArtifactInfo | undefined): ArtifactRef {
  if (!a) return { kind, name, missing: true };
  return { kind, name, sha256: a.sha256, size: a.size, format: a.format, url: artifactDownloadPath(a.sha256), refreshedAt: a.refreshedAt };
}

/** Names the policy gives for manager-held artifacts, without looking anything up. */
export function artifactNames(config: EffectiveConfig): { kind: ArtifactKind; name: string }[] {
  const out: { kind: ArtifactKind; name: string }[] = [];
  const am = config.modules[ARTIFACT_SETTINGS.signatureSets.module]?.settings[ARTIFACT_SETTINGS.signatureSets.key];
  if (Array.isArray(am)) for (const n of am) if (typeof n === 'string') out.push({ kind: 'signature-set', name: n });
  const feeds = config.modules[ARTIFACT_SETTINGS.feeds.module]?.settings[ARTIFACT_SETTINGS.feeds.key];
  if (Array.isArray(feeds))
    for (const f of feeds as Record<string, unknown>[])
      if (f && typeof f === 'object' && f.file === undefined && typeof f.name === 'string') out.push({ kind: 'webrep-feed', name: f.name });
  return out;
}

/**
 * Replaces artifact names in the effective configuration by what the agent needs to fetch and
 * verify them (`{name, sha256, size, url, …}`). The hash of the configuration then covers the
 * content: a new version of a set is a new configuration, picked up at the next heartbeat.
 * Costs nothing for configurations that name no artifact.
 */
export async function resolveArtifactRefs(store: TenantStore, config: EffectiveConfig): Promise<void> {
  if (artifactNames(config).length === 0) return;
  const byKey = await catalog(store);
  const get = (kind: ArtifactKind, name: string) => byKey.get(`${kind}\u0000${name}`);
  const am = config.modules[ARTIFACT_SETTINGS.signatureSets.module];
  const sets = am?.settings[ARTIFACT_SETTINGS.signatureSets.key];
  if (am && Array.isArray(sets)) {
    // A new module object: the one in the config may be the policy cache's own.
    config.modules[ARTIFACT_SETTINGS.signatureSets.module] = {
      ...am,
      settings: {
        ...am.settings,
        signatureSets: sets.map((n) => (typeof n === 'string' ? ref('signature-set', n, get('signature-set', n)) : n)),
      },
    };
  }
  const wr = config.modules[ARTIFACT_SETTINGS.feeds.module];
  const feeds = wr?.settings[ARTIFACT_SETTINGS.feeds.key];
  if (wr && Array.isArray(feeds)) {
    config.modules[ARTIFACT_SETTINGS.feeds.module] = {
      ...wr,
      settings: {
        ...wr.settings,
        feeds: (feeds as Record<string, unknown>[]).map((f) =>
          f && typeof f === 'object' && f.file === undefined && typeof f.name === 'string'
            ? { ...f, artifact: ref('webrep-feed', f.name, get('webrep-feed', f.name)) }
            : f,
        ),
      },
    };
  }
}
