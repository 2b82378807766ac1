import { existsSync, readFileSync } from 'node:fs';
import {
  AGENT_API,
  type ActivationRequest,
  type ActivationResponse,
  ActivationResponseSchema,
  type HostFacts,
} from '@palisade/protocol';
import { Value } from 'typebox/value';
import { AgentError } from './agent-error.ts';
import { type AgentIdentity, writeIdentity, writePrivateFile } from './agent-identity.ts';
import { dataDirPaths, ensureDataDir, resolveDataDir } from './data-dir.ts';
import { type CloudProvider, fetchCloudMetadata } from './cloud-metadata.ts';
import { isAgentRunning } from './control-client.ts';
import { collectHostFacts } from './host-facts.ts';
import { ManagerClient, managerErrorInfo } from './manager-client.ts';

export interface ActivateOptions {
  managerUrl: string;
  token: string;
  /** Path of a PEM file with the manager's CA; copied into the data dir. */
  caFile?: string;
  dataDir?: string;
  /** Replace an existing identity (the old agent record stays on the manager). */
  force?: boolean;
  /** Overrides the collected host facts (tests). */
  host?: HostFacts;
  /** Host tags (e.g. `env=prod`): sent at activation and with every heartbeat. */
  tags?: Record<string, string>;
  /** Read this cloud's instance metadata and report it (`HostFacts.cloud`) from now on. */
  cloud?: CloudProvider;
  cloudMetadataUrl?: string;
  timeoutMs?: number;
}

export interface ActivationOutcome {
  dataDir: string;
  agentId: string;
  tenantId: string;
  managerUrl: string;
  heartbeatSeconds: number;
  identityFile: string;
}

/** The protocol's limits for tags, checked before anything is sent. */
export function checkTags(tags: Record<string, string>): Record<string, string> {
  const entries = Object.entries(tags);
  if (entries.length > 50) throw new AgentError('AGENT_BAD_ARGUMENT', 'at most 50 tags');
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > 128) throw new AgentError('AGENT_BAD_ARGUMENT', `tag key ${JSON.stringify(k)} must be 1 to 128 characters`);
    if (typeof v !== 'string' || v.length > 255) throw new AgentError('AGENT_BAD_ARGUMENT', `tag ${k} value must be at most 255 characters`);
  }
  return tags;
}

export async function activateAgent(options: ActivateOptions): Promise<ActivationOutcome> {
  const dataDir = resolveDataDir(options.dataDir);
  const paths = dataDirPaths(dataDir);
  if (existsSync(paths.identity) && !options.force) {
    throw new AgentError(
      'AGENT_ALREADY_ACTIVATED',
      `${paths.identity} already exists; pass --force to activate again (the old identity is discarded)`,
    );
  }
  if (await isAgentRunning({ dataDir })) {
    // the running daemon would go on with the old credentials and the two would fight over agent.json
    throw new AgentError('AGENT_ALREADY_RUNNING', `an agent is running on ${dataDir}; stop it before activating again`);
  }
  if (options.token.length < 10 || options.token.length > 200) {
    throw new AgentError('AGENT_ACTIVATION_REFUSED', 'the activation token must be 10 to 200 characters long');
  }
  let ca: string | undefined;
  if (options.caFile) {
    try {
      ca = readFileSync(options.caFile, 'utf8');
    } catch (err) {
      throw new AgentError('AGENT_CA_UNREADABLE', `cannot read --ca ${options.caFile} (${(err as Error).message})`);
    }
    if (!ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new AgentError('AGENT_CA_UNREADABLE', `${options.caFile} holds no PEM certificate`);
    }
  }

  const tags = checkTags(options.tags ?? {});
  const facts = options.host ?? collectHostFacts();
  let host: HostFacts = Object.keys(tags).length > 0 ? { ...facts, tags: { ...(facts.tags ?? {}), ...tags } } : facts;
  if (options.cloud) {
    const cloud = await fetchCloudMetadata(options.cloud, { baseUrl: options.cloudMetadataUrl });
    if (!cloud) {
      throw new AgentError(
        'AGENT_CLOUD_METADATA_UNAVAILABLE',
        `--cloud ${options.cloud} given, but no instance metadata service answered${options.cloudMetadataUrl ? ` at ${options.cloudMetadataUrl}` : ''}`,
      );
    }
    host = { ...host, cloud };
  }
  const body: ActivationRequest = { token: options.token, host };
  const client = new ManagerClient({ managerUrl: options.managerUrl, ca });
  let res: Awaited<ReturnType<ManagerClient['request']>>;
  try {
    res = await client.request('POST', AGENT_API.activate, body, { timeoutMs: options.timeoutMs ?? 20_000 });
  } finally {
    client.close();
  }
  if (res.status < 200 || res.status >= 300) {
    const info = managerErrorInfo(res.body);
    throw new AgentError(
      'AGENT_ACTIVATION_REFUSED',
      `the manager refused activation (HTTP ${res.status}${info.code ? ` ${info.code}` : ''}): ${info.message ?? 'no message'}`,
      { status: res.status, managerCode: info.code, managerMessage: info.message, field: info.field },
    );
  }
  if (!Value.Check(ActivationResponseSchema, res.body)) {
    throw new AgentError('AGENT_PROTOCOL_ERROR', 'the manager answered activation with a body that does not match the protocol');
  }
  const answer = res.body as ActivationResponse;

  ensureDataDir(dataDir);
  if (ca) writePrivateFile(paths.ca, ca);
  const identity: AgentIdentity = {
    agentId: answer.agentId,
    agentSecret: answer.agentSecret,
    tenantId: answer.tenantId,
    managerUrl: options.managerUrl,
    caFile: ca ? 'manager-ca.pem' : null,
    heartbeatSeconds: answer.heartbeatSeconds,
    activatedAt: new Date().toISOString(),
    ...(Object.keys(tags).length > 0 ? { tags } : {}),
    ...(options.cloud ? { cloud: options.cloud } : {}),
    ...(options.cloudMetadataUrl ? { cloudMetadataUrl: options.cloudMetadataUrl } : {}),
  };
  writeIdentity(dataDir, identity);
  return {
    dataDir,
    agentId: answer.agentId,
    tenantId: answer.tenantId,
    managerUrl: options.managerUrl,
    heartbeatSeconds: answer.heartbeatSeconds,
    identityFile: paths.identity,
  };
}
