import { ApiClientError } from './api-client-error.ts';
import { type ApiTransport, fetchTransport } from './api-transport.ts';
import type { Forwarder, ForwarderTestResult, NewForwarder } from './forwarder-types.ts';
import type { CloudAccount, CloudInstance, CloudSyncSummary, NewCloudAccount } from './cloud-account-types.ts';
import type { NewPlaybook, Playbook, PlaybookActionRecord } from './playbook-types.ts';

export interface PalisadeClientOptions {
  url: string;
  apiKey: string;
  transport?: ApiTransport;
}

type Query = Record<string, string | number | boolean | string[] | undefined>;

/**
 * Typed client of the manager's REST API. Every call the console and the CLI make goes through
 * here, so both only ever use what the OpenAPI document describes.
 */
export class PalisadeClient {
  private readonly base: string;
  private readonly transport: ApiTransport;

  constructor(private readonly opts: PalisadeClientOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    this.transport = opts.transport ?? fetchTransport;
  }

  async request<T>(method: string, path: string, opts: { query?: Query; body?: unknown } = {}): Promise<T> {
    const qs = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query ?? {})) {
      if (v === undefined) continue;
      for (const item of Array.isArray(v) ? v : [v]) qs.append(k, String(item));
    }
    const url = `${this.base}${path}${qs.size ? `?${qs}` : ''}`;
    const headers: Record<string, string> = { authorization: `Bearer ${this.opts.apiKey}`, accept: 'application/json' };
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await this.transport({ method, url, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    let parsed: unknown;
    try {
      parsed = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      parsed = undefined;
    }
    if (res.status >= 400) {
      const e = (parsed ?? {}) as { code?: string; message?: string; field?: string };
      throw new ApiClientError(res.status, e.code ?? `HTTP_${res.status}`, e.message ?? res.body.slice(0, 200), e.field);
    }
    return parsed as T;
  }

  // Tenants and keys
  listTenants = () => this.request<{ tenants: Tenant[] }>('GET', '/api/v1/tenants');
  createTenant = (body: { id: string; name: string }) => this.request<Tenant>('POST', '/api/v1/tenants', { body });
  createTenantApiKey = (tenantId: string, body: { name: string; role: Role }) =>
    this.request<ApiKey & { secret: string }>('POST', `/api/v1/tenants/${enc(tenantId)}/api-keys`, { body });
  listApiKeys = () => this.request<{ apiKeys: ApiKey[] }>('GET', '/api/v1/api-keys');
  createApiKey = (body: { name: string; role: Role }) => this.request<ApiKey & { secret: string }>('POST', '/api/v1/api-keys', { body });
  revokeApiKey = (id: string) => this.request<ApiKey>('DELETE', `/api/v1/api-keys/${enc(id)}`);

  // Activation tokens
  listTokens = () => this.request<{ tokens: ActivationToken[] }>('GET', '/api/v1/activation-tokens');
  createToken = (body: { description?: string; policyId?: string; group?: string; ttlSeconds?: number; maxUses?: number }) =>
    this.request<ActivationToken & { token: string }>('POST', '/api/v1/activation-tokens', { body });
  revokeToken = (id: string) => this.request<ActivationToken>('DELETE', `/api/v1/activation-tokens/${enc(id)}`);

  // Policies
  listPolicies = () => this.request<{ policies: Policy[] }>('GET', '/api/v1/policies');
  getPolicy = (id: string) => this.request<Policy>('GET', `/api/v1/policies/${enc(id)}`);
  createPolicy = (body: { name: string; parentId?: string | null; description?: string; settings?: Record<string, unknown> }) =>
    this.request<Policy>('POST', '/api/v1/policies', { body });
  updatePolicy = (
    id: string,
    body: { name?: string; parentId?: string | null; description?: string; settings?: Record<string, unknown> },
  ) => this.request<Policy>('PATCH', `/api/v1/policies/${enc(id)}`, { body });
  deletePolicy = (id: string) => this.request<void>('DELETE', `/api/v1/policies/${enc(id)}`);
  policyEffective = (id: string) =>
    this.request<{ hash: string; config: Record<string, unknown>; chain?: Array<{ id: string; name: string }> }>(
      'GET',
      `/api/v1/policies/${enc(id)}/effective`,
    );

  // Computers and commands
  listComputers = (query: { status?: string; policyId?: string; group?: string; hostname?: string; smartFolderId?: string } = {}) =>
    this.request<{ computers: Computer[] }>('GET', '/api/v1/computers', { query });
  getComputer = (id: string) => this.request<Computer>('GET', `/api/v1/computers/${enc(id)}`);
  updateComputer = (
    id: string,
    body: { policyId?: string | null; group?: string | null; overrides?: Record<string, unknown>; tags?: Record<string, string> },
  ) => this.request<Computer>('PATCH', `/api/v1/computers/${enc(id)}`, { body });
  deactivateComputer = (id: string) => this.request<Computer>('DELETE', `/api/v1/computers/${enc(id)}`);
  effectiveConfig = (id: string) =>
    this.request<{ hash: string; appliedHash: string; config: Record<string, unknown>; origins: SettingOrigin[] }>(
      'GET',
      `/api/v1/computers/${enc(id)}/effective-config`,
    );
  sendCommand = (id: string, body: { kind: string; args?: Record<string, unknown> }) =>
    this.request<Command>('POST', `/api/v1/computers/${enc(id)}/commands`, { body });
  getCommand = (id: string) => this.request<Command>('GET', `/api/v1/commands/${enc(id)}`);

  // Events
  listEvents = (
    query: {
      computerId?: string;
      module?: string;
      type?: string;
      severity?: string[];
      since?: string;
      until?: string;
      limit?: number;
      cursor?: string;
    } = {},
  ) => this.request<{ events: Event[]; nextCursor: string | null }>('GET', '/api/v1/events', { query });
  eventCounts = (since?: string) =>
    this.request<{ since: string; counts: { hour: string; module: string; count: number }[] }>('GET', '/api/v1/events/counts', {
      query: { since },
    });

  // Smart folders
  listSmartFolders = () => this.request<{ smartFolders: SmartFolder[] }>('GET', '/api/v1/smart-folders');
  createSmartFolder = (body: { name: string; query: unknown }) => this.request<SmartFolder>('POST', '/api/v1/smart-folders', { body });
  getSmartFolder = (id: string) => this.request<SmartFolder>('GET', `/api/v1/smart-folders/${enc(id)}`);
  deleteSmartFolder = (id: string) => this.request<void>('DELETE', `/api/v1/smart-folders/${enc(id)}`);
  smartFolderComputers = (id: string) => this.request<{ computers: Computer[] }>('GET', `/api/v1/smart-folders/${enc(id)}/computers`);
  updateSmartFolder = (id: string, body: { name?: string; query?: unknown }) =>
    this.request<SmartFolder>('PATCH', `/api/v1/smart-folders/${enc(id)}`, { body });

  // Events and audit (one event, the audit trail)
  getEvent = (id: string) => this.request<Event>('GET', `/api/v1/events/${enc(id)}`);
  listAudit = (query: { target?: string; action?: string; limit?: number } = {}) =>
    this.request<{ entries: AuditEntry[] }>('GET', '/api/v1/audit', { query });
  listComputerCommands = (id: string) => this.request<{ commands: Command[] }>('GET', `/api/v1/computers/${enc(id)}/commands`);

  // Inventory, vulnerabilities and recommendations
  getInventory = (id: string) => this.request<StoredInventory>('GET', `/api/v1/computers/${enc(id)}/inventory`);
  getVulnerabilities = (id: string) =>
    this.request<{ scannedAt: string | null; vulnerabilities: Vulnerability[] }>('GET', `/api/v1/computers/${enc(id)}/vulnerabilities`);
  getRecommendations = (id: string) =>
    this.request<{ assigned: RuleAssignment[]; scan: ScanOutcome | null }>('GET', `/api/v1/computers/${enc(id)}/recommendations`);
  scanRecommendations = (id: string, body: { dryRun?: boolean } = {}) =>
    this.request<ScanOutcome>('POST', `/api/v1/computers/${enc(id)}/recommendations/scan`, { body });
  /** Queues a scan of every computer of a smart folder; follow it with `getJob(job.id)`. */
  scanSmartFolderRecommendations = (smartFolderId: string) =>
    this.request<Job>('POST', `/api/v1/smart-folders/${enc(smartFolderId)}/recommendations/scan`, { body: {} });
  getJob = (id: string) => this.request<Job>('GET', `/api/v1/jobs/${enc(id)}`);
  applyRecommendations = (id: string) =>
    this.request<ScanOutcome>('POST', `/api/v1/computers/${enc(id)}/recommendations/apply`, { body: {} });
  listRules = (query: { module?: string } = {}) => this.request<{ rules: CatalogRule[] }>('GET', '/api/v1/rules', { query });
  listVulnerabilityImports = () => this.request<{ imports: Array<Record<string, unknown>> }>('GET', '/api/v1/vulnerability-data/imports');
  importVulnerabilityData = (body: { source: string; records: unknown[] }) =>
    this.request<Record<string, unknown>>('POST', '/api/v1/vulnerability-data', { body });

  // Event forwarders (syslog, webhook, SNS)
  listForwarders = () => this.request<{ forwarders: Forwarder[] }>('GET', '/api/v1/forwarders');
  getForwarder = (id: string) => this.request<Forwarder>('GET', `/api/v1/forwarders/${enc(id)}`);
  createForwarder = (body: NewForwarder) => this.request<Forwarder>('POST', '/api/v1/forwarders', { body });
  setForwarderEnabled = (id: string, enabled: boolean) =>
    this.request<Forwarder>('PATCH', `/api/v1/forwarders/${enc(id)}`, { body: { enabled } });
  deleteForwarder = (id: string) => this.request<void>('DELETE', `/api/v1/forwarders/${enc(id)}`);
  testForwarder = (id: string) => this.request<ForwarderTestResult>('POST', `/api/v1/forwarders/${enc(id)}/test`, { body: {} });

  // Response playbooks and what they did
  listPlaybooks = () => this.request<{ playbooks: Playbook[] }>('GET', '/api/v1/playbooks');
  getPlaybook = (idOrName: string) => this.request<Playbook>('GET', `/api/v1/playbooks/${enc(idOrName)}`);
  createPlaybook = (body: NewPlaybook) => this.request<Playbook>('POST', '/api/v1/playbooks', { body });
  updatePlaybook = (id: string, body: Partial<NewPlaybook>) => this.request<Playbook>('PATCH', `/api/v1/playbooks/${enc(id)}`, { body });
  deletePlaybook = (id: string) => this.request<void>('DELETE', `/api/v1/playbooks/${enc(id)}`);
  listPlaybookActions = (query: { playbookId?: string; status?: string; limit?: number } = {}) =>
    this.request<{ actions: PlaybookActionRecord[] }>('GET', '/api/v1/playbook-actions', { query });
  undoPlaybookAction = (id: string) => this.request<PlaybookActionRecord>('POST', `/api/v1/playbook-actions/${enc(id)}/undo`, { body: {} });

  // Cloud accounts (AWS)
  listCloudAccounts = () => this.request<{ cloudAccounts: CloudAccount[] }>('GET', '/api/v1/cloud-accounts');
  getCloudAccount = (idOrName: string) => this.request<CloudAccount>('GET', `/api/v1/cloud-accounts/${enc(idOrName)}`);
  createCloudAccount = (body: NewCloudAccount) => this.request<CloudAccount>('POST', '/api/v1/cloud-accounts', { body });
  updateCloudAccount = (id: string, body: { name?: string; regions?: string[]; syncIntervalSeconds?: number; enabled?: boolean }) =>
    this.request<CloudAccount>('PATCH', `/api/v1/cloud-accounts/${enc(id)}`, { body });
  deleteCloudAccount = (id: string) => this.request<void>('DELETE', `/api/v1/cloud-accounts/${enc(id)}`);
  syncCloudAccount = (id: string) => this.request<CloudSyncSummary>('POST', `/api/v1/cloud-accounts/${enc(id)}/sync`, { body: {} });
  cloudInstances = (id: string) => this.request<{ instances: CloudInstance[] }>('GET', `/api/v1/cloud-accounts/${enc(id)}/instances`);
}

const enc = encodeURIComponent;

export type Role = 'admin' | 'operator' | 'auditor';
export interface Tenant {
  id: string;
  name: string;
  createdAt: string;
  status: string;
}
export interface ApiKey {
  id: string;
  name: string;
  role: Role;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
export interface ActivationToken {
  id: string;
  description: string;
  policyId: string | null;
  group: string | null;
  expiresAt: string;
  maxUses: number | null;
  uses: number;
  revokedAt: string | null;
  createdAt: string;
}
export interface Policy {
  id: string;
  name: string;
  parentId: string | null;
  description: string;
  settings: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
}
export interface Computer {
  id: string;
  hostname: string;
  platform: string;
  ips: string[];
  agentVersion: string;
  status: string;
  policyId: string | null;
  group: string | null;
  tags: Record<string, string>;
  modules: Record<string, { state: string; reason?: string }>;
  configHash: string;
  lastHeartbeat: string | null;
  activatedAt: string;
  deactivatedAt: string | null;
  overrides: Record<string, unknown>;
  spool: { pending: number; dropped: number };
  cloud: Record<string, unknown> | null;
  ruleAssignments?: RuleAssignment[];
}
export interface Job {
  id: string;
  kind: string;
  args: Record<string, unknown>;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  runAt: string;
  attempts: number;
  createdAt: string;
  finishedAt: string | null;
  result: unknown;
  error: string | null;
}
export interface Command {
  id: string;
  computerId: string;
  kind: string;
  args: Record<string, unknown>;
  status: string;
  createdAt: string;
  result: unknown;
  error: string | null;
}
export interface Event {
  id: string;
  computerId: string;
  time: string;
  module: string;
  type: string;
  severity: string;
  ruleId?: string;
  message: string;
  details?: Record<string, unknown>;
  receivedAt: string;
}
export interface SmartFolder {
  id: string;
  name: string;
  query: unknown;
  createdAt: string;
  updatedAt: string;
}

export interface AuditEntry {
  id: string;
  time: string;
  actor: string;
  action: string;
  target: string;
  details?: Record<string, unknown>;
}
export interface StoredInventory {
  computerId: string;
  collectedAt: string;
  receivedAt: string;
  hash: string;
  inventory: { items: InventoryItem[] } & Record<string, unknown>;
}
export interface InventoryItem {
  ecosystem: string;
  name: string;
  version: string;
  location: string;
  purl: string;
}
export interface Vulnerability {
  advisoryId: string;
  aliases: string[];
  summary?: string;
  severity?: string;
  score?: number;
  package: InventoryItem;
  fixedVersion?: string;
  /** Catalog rules that shield it, e.g. `ips/CVE-2017-5638`. */
  shieldedBy: string[];
}
export interface RuleAssignment {
  module: string;
  ruleId: string;
  source: 'recommendation' | 'manual';
  assignedAt: string;
  reason: Record<string, unknown>;
}
export interface RuleRecommendation {
  module: string;
  ruleId: string;
  title: string;
  cves: string[];
  reasons: Array<{ via: string; advisoryId: string; package: string; version: string; location: string; fixedVersion?: string }>;
}
export interface ScanOutcome {
  computerId: string;
  scannedAt: string;
  mode: 'off' | 'report' | 'auto';
  inventoryCollectedAt: string | null;
  applied: boolean;
  vulnerabilities: Vulnerability[];
  recommended: RuleRecommendation[];
  diff: { assign: RuleRecommendation[]; unassign: Array<{ module: string; ruleId: string; reason: string }> };
}
export interface CatalogRule {
  module: string;
  id: string;
  title: string;
  cves: string[];
  [k: string]: unknown;
}
/** Where one effective setting comes from: the defaults, a policy of the chain, or the computer itself. */
export interface SettingOrigin {
  path: string;
  value: unknown;
  source: 'default' | { policyId: string } | 'computer';
}
