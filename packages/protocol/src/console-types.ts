/**
 * Console users and the dashboard summary as the manager's REST API returns them: declared once
 * here so the manager (which imports them) and api-client (which re-exports them) agree.
 */

/** A console user (`/api/v1/users`), never with the password hash. */
export interface ConsoleUser {
  id: string;
  username: string;
  role: 'admin' | 'operator' | 'auditor';
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
  lastLoginAt: string | null;
}

/** Dashboard aggregates over [since, until) (`GET /api/v1/events/summary`). */
export interface EventSummary {
  since: string;
  until: string;
  total: number;
  /** Events of the protection modules (not `system`) that stopped something / only saw it. */
  blocked: number;
  detected: number;
  topComputers: { computerId: string; hostname: string | null; count: number }[];
  topRules: { module: string; ruleId: string; count: number }[];
  topCves: { cve: string; count: number }[];
  perHour: { hour: string; module: string; count: number }[];
}
