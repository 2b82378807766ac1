import type { AppControlDrift, AppControlDriftDecision, AppControlGlobalBlock } from '@palisade/protocol';
import type { PalisadeClient } from './palisade-client.ts';

/** Declared in @palisade/protocol, which the manager shares. */
export type { AppControlDrift, AppControlGlobalBlock };

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

export interface AppControlDecision {
  ruleset: AppControlRuleset;
  decision: AppControlDriftDecision;
  /** Open drift records of that content the decision closed. */
  driftClosed: number;
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
