import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { AgentError } from './agent-error.ts';
import { CLOUD_PROVIDERS, type CloudProvider } from './cloud-metadata.ts';
import { dataDirPaths } from './data-dir.ts';

/** Contents of `<data-dir>/agent.json`: everything the daemon needs to talk to its manager. */
export interface AgentIdentity {
  agentId: string;
  agentSecret: string;
  tenantId: string;
  managerUrl: string;
  /** File name inside the data dir (copied at activation), or null to use the system CAs. */
  caFile: string | null;
  heartbeatSeconds: number;
  activatedAt: string;
  /** Tags given at activation (`--tag k=v`), sent with every heartbeat so the manager's rules can use them. */
  tags?: Record<string, string>;
  /** Cloud whose metadata service is read for `HostFacts.cloud` (opt-in at activation). */
  cloud?: CloudProvider;
  /** Override of the metadata service address (tests, proxies); default the link-local one. */
  cloudMetadataUrl?: string;
}

/** Write-then-rename so a crash never leaves a half-written identity; 0600 because it holds the secret. */
export function writePrivateFile(path: string, content: string | Buffer): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function writeIdentity(dataDir: string, identity: AgentIdentity): void {
  writePrivateFile(dataDirPaths(dataDir).identity, `${JSON.stringify(identity, null, 2)}\n`);
}

export function readIdentity(dataDir: string): AgentIdentity {
  const path = dataDirPaths(dataDir).identity;
  if (!existsSync(path)) {
    throw new AgentError(
      'AGENT_NOT_ACTIVATED',
      `no identity in ${dataDir} (missing ${basename(path)}); run \`palisade agent activate --manager URL --token T\` first`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AgentError('AGENT_IDENTITY_INVALID', `${path} is not valid JSON (${(err as Error).message})`);
  }
  const id = parsed as Partial<AgentIdentity>;
  const missing = (['agentId', 'agentSecret', 'tenantId', 'managerUrl'] as const).filter(
    (k) => typeof id[k] !== 'string' || id[k] === '',
  );
  if (missing.length > 0) {
    throw new AgentError('AGENT_IDENTITY_INVALID', `${path} lacks ${missing.join(', ')}; activate the agent again`);
  }
  return {
    agentId: id.agentId as string,
    agentSecret: id.agentSecret as string,
    tenantId: id.tenantId as string,
    managerUrl: id.managerUrl as string,
    caFile: typeof id.caFile === 'string' ? id.caFile : null,
    heartbeatSeconds: typeof id.heartbeatSeconds === 'number' && id.heartbeatSeconds > 0 ? id.heartbeatSeconds : 10,
    activatedAt: typeof id.activatedAt === 'string' ? id.activatedAt : '',
    ...(id.tags && typeof id.tags === 'object' && Object.keys(id.tags).length > 0 ? { tags: id.tags } : {}),
    ...((CLOUD_PROVIDERS as readonly unknown[]).includes(id.cloud) ? { cloud: id.cloud } : {}),
    ...(typeof id.cloudMetadataUrl === 'string' ? { cloudMetadataUrl: id.cloudMetadataUrl } : {}),
  };
}

export function readIdentityCa(dataDir: string, identity: AgentIdentity): string | undefined {
  if (!identity.caFile) return undefined;
  const path = `${dataDir}/${identity.caFile}`;
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentError('AGENT_IDENTITY_INVALID', `cannot read the manager CA ${path} (${(err as Error).message})`);
  }
}
