/**
 * Application-control records as the manager's REST API returns them (docs/app-control.md):
 * declared once here so the manager (which imports them) and api-client (which re-exports them)
 * agree.
 */

export const DRIFT_STATUSES = ['open', 'allowed', 'blocked'] as const;
export type DriftStatus = (typeof DRIFT_STATUSES)[number];

/** Where a review put its decision: this computer's local ruleset, or a shared one. */
export interface AppControlDriftDecision {
  action: 'allow' | 'block';
  scope: 'computer' | 'ruleset';
  rulesetId: string;
}

/** One executable a computer saw that no rule allowed, and its review. */
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
  /** Refused at least once. */
  blocked: boolean;
  /** How many reports (events) the agent sent for it. */
  reports: number;
  firstSeen: string;
  lastSeen: string;
  process: { pid: number; exe?: string } | null;
  user: { uid: number; name?: string } | null;
  status: DriftStatus;
  decision: AppControlDriftDecision | null;
  decidedBy: string | null;
  decidedAt: string | null;
}

/** One entry of the tenant's global block list. */
export interface AppControlGlobalBlock {
  sha256: string;
  description: string;
  createdBy: string;
  createdAt: string;
}
