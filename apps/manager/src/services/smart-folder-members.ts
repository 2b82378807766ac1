import { matchesQuery, type SmartFolderQuery } from '../queries/smart-folder-query.ts';
import type { Computer } from '../store/computer-repository.ts';
import type { TenantStore } from '../store/tenant-store.ts';

/**
 * The computers among `computers` that a smart-folder query matches now, seen as queries see
 * them: the policy by name, cloud metadata and tags flattened into tags (user tags win).
 */
export async function computersMatching(store: TenantStore, query: SmartFolderQuery, computers: Computer[]): Promise<Computer[]> {
  const names = new Map((await store.policies.list()).map((p) => [p.id, p.name]));
  return computers.filter((c) =>
    matchesQuery(
      {
        hostname: c.hostname,
        platform: c.platform,
        policy: c.policyId ? (names.get(c.policyId) ?? null) : null,
        status: c.status,
        group: c.group,
        agentVersion: c.agentVersion,
        ips: c.ips,
        tags: { ...Object.fromEntries(Object.entries(c.cloud ?? {}).filter(([, v]) => typeof v === 'string')), ...c.tags } as Record<
          string,
          string
        >,
      },
      query,
    ),
  );
}
