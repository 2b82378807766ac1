import { ApiClientError } from './api-client-error.ts';
import { type ApiTransport, fetchTransport } from './api-transport.ts';

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
    this.request<{ hash: string; config: Record<string, unknown> }>('GET', `/api/v1/policies/${enc(id)}/effective`);

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
    this.request<{ hash: string; appliedHash: string; config: Record<string, unknown>; origins: unknown[] }>(
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
