import type { PalisadeClient } from './palisade-client.ts';

/** One application-control rule (see docs/app-control.md). */
export interface AppControlRule {
  kind: 'hash' | 'path' | 'package';
  action: 'allow' | 'block';
  sha256?: string;
  pattern?: string;
  manager?: 'dpkg' | 'rpm';
  name?: string;
  description?: string;
}

export interface AppControlRuleset {
  id: string;
  name: string;
  description: string;
  scope: 'shared' | 'local';
  /** Set on a computer's local ruleset. */
  computerId: string | null;
  rules: AppControlRule[];
  createdAt: string;
  updatedAt: string;
}

export interface AppControlDrift {
  id: string;
  computerId: string;
  path: string;
  sha256: string;
  /** `disk`: found by a disk check, not run yet. */
  access: 'exec' | 'open' | 'disk';
  size: number | null;
  package: { manager: string; name: string; intact: boolean } | null;
  verdict: string;
  source: string;
  blocked: boolean;
  reports: number;
  firstSeen: string;
  lastSeen: string;
  process: { pid: number; exe?: string } | null;
  user: { uid: number; name?: string } | null;
  status: 'open' | 'allowed' | 'blocked';
  decision: { action: 'allow' | 'block'; scope: 'computer' | 'ruleset'; rulesetId: string } | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

export interface AppControlDecision {
  ruleset: AppControlRuleset;
  decision: { action: 'allow' | 'block'; scope: 'computer' | 'ruleset'; rulesetId: string };
  /** Open drift records of that content the decision closed. */
  driftClosed: number;
}

export interface AppControlGlobalBlock {
  sha256: string;
  description: string;
  createdBy: string;
  createdAt: string;
}

const enc = encodeURIComponent;

/** The application-control part of the manager's API: rulesets, global block list, drift review. */
export class AppControlClient {
  constructor(private readonly client: PalisadeClient) {}

  listRulesets = (query: { scope?: 'shared' | 'local'; computerId?: string } = {}) =>
    this.client.request<{ rulesets: AppControlRuleset[] }>('GET', '/api/v1/app-control/rulesets', { query });
  getRuleset = (id: string) => this.client.request<AppControlRuleset>('GET', `/api/v1/app-control/rulesets/${enc(id)}`);
  createRuleset = (body: { id: string; name?: string; description?: string; rules?: AppControlRule[] }) =>
    this.client.request<AppControlRuleset>('POST', '/api/v1/app-control/rulesets', { body });
  addRules = (id: string, rules: AppControlRule[]) =>
    this.client.request<AppControlRuleset>('POST', `/api/v1/app-control/rulesets/${enc(id)}/rules`, { body: { rules } });
  deleteRuleset = (id: string) => this.client.request<void>('DELETE', `/api/v1/app-control/rulesets/${enc(id)}`);
  localRuleset = (computerId: string) =>
    this.client.request<AppControlRuleset>('GET', `/api/v1/computers/${enc(computerId)}/app-control/ruleset`);

  listGlobalBlock = () => this.client.request<{ entries: AppControlGlobalBlock[] }>('GET', '/api/v1/app-control/global-block');
  addGlobalBlock = (sha256: string, description?: string) =>
    this.client.request<AppControlGlobalBlock>('POST', '/api/v1/app-control/global-block', {
      body: { sha256, ...(description ? { description } : {}) },
    });
  removeGlobalBlock = (sha256: string) => this.client.request<void>('DELETE', `/api/v1/app-control/global-block/${enc(sha256)}`);

  /** Drift, most recently seen first; `status` defaults to open. */
  listDrift = (
    query: { computerId?: string; status?: 'open' | 'allowed' | 'blocked' | 'all'; sha256?: string; limit?: number; cursor?: string } = {},
  ) => this.client.request<{ drift: AppControlDrift[]; nextCursor: string | null }>('GET', '/api/v1/app-control/drift', { query });
  /** Allow or block a drift record's content on its computer, or in a shared ruleset (`rulesetId`). */
  reviewDrift = (id: string, body: { action: 'allow' | 'block'; rulesetId?: string; description?: string }) =>
    this.client.request<AppControlDecision & { drift: AppControlDrift }>('POST', `/api/v1/app-control/drift/${enc(id)}/review`, { body });
  /** Allow or block a SHA-256 on one computer (`computerId`) or in a shared ruleset (`rulesetId`). */
  decide = (body: { sha256: string; action: 'allow' | 'block'; computerId?: string; rulesetId?: string; description?: string }) =>
    this.client.request<AppControlDecision>('POST', '/api/v1/app-control/decisions', { body });
}
