import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface AuditEntry {
  id: string;
  time: string;
  actor: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** Who changed what: every change to policies, keys, tokens and assignments is recorded. */
export class AuditRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async record(actor: string, action: string, target: string, details: Record<string, unknown> = {}): Promise<void> {
    await this.db
      .insertInto('audit_log')
      .values({ id: newId(), time: this.clock().toISOString(), actor, action, target, details: toJson(details) })
      .execute();
  }

  async list(filter: { target?: string; action?: string; limit?: number } = {}): Promise<AuditEntry[]> {
    let q = this.db.selectFrom('audit_log').selectAll();
    if (filter.target) q = q.where('target', '=', filter.target);
    if (filter.action) q = q.where('action', '=', filter.action);
    const rows = await q
      .orderBy('time', 'desc')
      .limit(filter.limit ?? 100)
      .execute();
    return rows.map((r) => ({ ...r, details: fromJson(r.details, {}) }));
  }
}
