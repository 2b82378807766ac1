import { randomUUID } from 'node:crypto';
import type { AppControlRule, Ruleset, RulesetScope } from '@palisade/app-control';
import {
  type AppControlDrift as DriftRecord,
  type AppControlDriftDecision as DriftDecision,
  DRIFT_STATUSES,
  type DriftStatus,
  type AppControlGlobalBlock as GlobalBlockEntry,
} from '@palisade/protocol';
import type { Kysely } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

/** The tables of migration 0005 (kept here, beside the only code that uses them). */
// A type alias (not an interface): kysely's withTables needs an index-compatible record type.
export type AppControlTables = {
  app_control_rulesets: {
    id: string;
    name: string;
    description: string;
    scope: string;
    computer_id: string | null;
    rules: string;
    created_at: string;
    updated_at: string;
  };
  app_control_global_block: { sha256: string; description: string; created_by: string; created_at: string };
  app_control_drift: {
    id: string;
    computer_id: string;
    path: string;
    sha256: string;
    access: string;
    size: number | null;
    package: string | null;
    verdict: string;
    source: string;
    blocked: number;
    reports: number;
    first_seen: string;
    last_seen: string;
    process: string | null;
    user_info: string | null;
    status: string;
    decision: string | null;
    decided_by: string | null;
    decided_at: string | null;
  };
  app_control_drift_events: { event_id: string; received_at: string };
};

type Db = Kysely<TenantTables & AppControlTables>;

export interface StoredRuleset extends Ruleset {
  description: string;
  computerId: string | null;
  createdAt: string;
  updatedAt: string;
}

export type { GlobalBlockEntry, DriftDecision, DriftRecord };
export { DRIFT_STATUSES, type DriftStatus };

/** One app-control event as intake reads it. */
export interface DriftReport {
  eventId: string;
  computerId: string;
  type: string;
  time: string;
  receivedAt: string;
  details: Record<string, unknown>;
}

export interface DriftQuery {
  computerId?: string;
  status?: DriftStatus;
  sha256?: string;
  limit: number;
  /** Opaque cursor from the previous page (most recently seen first). */
  cursor?: string;
}

/** The id of a computer's local ruleset. */
export const localRulesetId = (computerId: string) => `computer:${computerId}`;

const toRuleset = (r: AppControlTables['app_control_rulesets']): StoredRuleset => ({
  id: r.id,
  name: r.name,
  description: r.description,
  scope: r.scope as RulesetScope,
  computerId: r.computer_id,
  rules: fromJson<AppControlRule[]>(r.rules, []),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toDrift = (r: AppControlTables['app_control_drift']): DriftRecord => ({
  id: r.id,
  computerId: r.computer_id,
  path: r.path,
  sha256: r.sha256,
  access: r.access as DriftRecord['access'],
  size: r.size === null ? null : Number(r.size),
  package: fromJson(r.package, null),
  verdict: r.verdict,
  source: r.source,
  blocked: Number(r.blocked) === 1,
  reports: Number(r.reports),
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  process: fromJson(r.process, null),
  user: fromJson(r.user_info, null),
  status: r.status as DriftStatus,
  decision: fromJson(r.decision, null),
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
});

function encodeCursor(r: { last_seen: string; id: string }): string {
  return Buffer.from(JSON.stringify([r.last_seen, r.id])).toString('base64url');
}

function decodeCursor(c: string): { lastSeen: string; id: string } | undefined {
  try {
    const [lastSeen, id] = JSON.parse(Buffer.from(c, 'base64url').toString()) as [unknown, unknown];
    return typeof lastSeen === 'string' && typeof id === 'string' ? { lastSeen, id } : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const isoOf = (v: unknown, fallback: string) => {
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? fallback : new Date(ms).toISOString();
};
const laterOf = (a: string, b: string) => (a > b ? a : b);
const earlierOf = (a: string, b: string) => (a < b ? a : b);

/**
 * Application control's rows of one tenant: rulesets, the global block list and drift. The
 * rules themselves are validated before they get here (loadRuleset, all-or-nothing).
 */
export class AppControlRepository {
  private readonly db: Db;

  constructor(
    db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {
    this.db = db.withTables<AppControlTables>();
  }

  // Rulesets

  async listRulesets(filter: { scope?: RulesetScope; computerId?: string } = {}): Promise<StoredRuleset[]> {
    let q = this.db.selectFrom('app_control_rulesets').selectAll();
    if (filter.scope) q = q.where('scope', '=', filter.scope);
    if (filter.computerId) q = q.where('computer_id', '=', filter.computerId);
    return (await q.orderBy('scope', 'desc').orderBy('id').execute()).map(toRuleset);
  }

  async getRuleset(id: string): Promise<StoredRuleset | undefined> {
    const r = await this.db.selectFrom('app_control_rulesets').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRuleset(r);
  }

  async createRuleset(r: { id: string; name: string; description?: string; rules: AppControlRule[] }): Promise<StoredRuleset> {
    if (r.id.startsWith('computer:'))
      throw new StoreError('STORE_INVALID_REFERENCE', 'ids starting with computer: are local rulesets', 'id');
    const now = this.clock().toISOString();
    const row = {
      id: r.id,
      name: r.name,
      description: r.description ?? '',
      scope: 'shared',
      computer_id: null,
      rules: toJson(r.rules),
      created_at: now,
      updated_at: now,
    };
    const res = await this.db
      .insertInto('app_control_rulesets')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0) throw new StoreError('STORE_CONFLICT', `ruleset ${r.id} exists`, 'id');
    return toRuleset(row);
  }

  /**
   * Changes a ruleset's rules with `edit` inside one transaction (read, edit, write), so two
   * reviews at once never lose each other's rule. A computer's local ruleset is created on its
   * first rule. `edit` throws to refuse (nothing is written).
   */
  async updateRules(
    id: string,
    edit: (rules: AppControlRule[]) => AppControlRule[],
    local?: { computerId: string },
  ): Promise<StoredRuleset> {
    return this.db.transaction().execute(async (trx) => {
      const now = this.clock().toISOString();
      const found = await trx.selectFrom('app_control_rulesets').selectAll().where('id', '=', id).executeTakeFirst();
      if (!found && !local) throw new StoreError('STORE_NOT_FOUND', `no ruleset ${id}`, 'id');
      const rules = edit(found ? fromJson<AppControlRule[]>(found.rules, []) : []);
      if (found) {
        // Compare-and-set on updated_at: a concurrent writer makes this one retry from the client.
        const res = await trx
          .updateTable('app_control_rulesets')
          .set({ rules: toJson(rules), updated_at: now })
          .where('id', '=', id)
          .where('updated_at', '=', found.updated_at)
          .executeTakeFirst();
        if (Number(res.numUpdatedRows) === 0) throw new StoreError('STORE_CONFLICT', `ruleset ${id} changed meanwhile; try again`, 'id');
        return toRuleset({ ...found, rules: toJson(rules), updated_at: now });
      }
      const row = {
        id,
        name: 'This computer',
        description: 'Decisions made for this computer only',
        scope: 'local',
        computer_id: local!.computerId,
        rules: toJson(rules),
        created_at: now,
        updated_at: now,
      };
      const res = await trx
        .insertInto('app_control_rulesets')
        .values(row)
        .onConflict((oc) => oc.column('id').doNothing())
        .executeTakeFirst();
      if (Number(res.numInsertedOrUpdatedRows ?? 0) === 0)
        throw new StoreError('STORE_CONFLICT', `ruleset ${id} changed meanwhile; try again`, 'id');
      return toRuleset(row);
    });
  }

  async deleteRuleset(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('app_control_rulesets').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // Global block list

  async listGlobalBlock(): Promise<GlobalBlockEntry[]> {
    const rows = await this.db.selectFrom('app_control_global_block').selectAll().orderBy('created_at').orderBy('sha256').execute();
    return rows.map((r) => ({ sha256: r.sha256, description: r.description, createdBy: r.created_by, createdAt: r.created_at }));
  }

  /** Adds a hash (idempotent: an existing entry keeps its description and author). */
  async addGlobalBlock(sha256: string, description: string, createdBy: string): Promise<GlobalBlockEntry> {
    const row = { sha256, description, created_by: createdBy, created_at: this.clock().toISOString() };
    await this.db
      .insertInto('app_control_global_block')
      .values(row)
      .onConflict((oc) => oc.column('sha256').doNothing())
      .execute();
    const r = (await this.db.selectFrom('app_control_global_block').selectAll().where('sha256', '=', sha256).executeTakeFirstOrThrow())!;
    return { sha256: r.sha256, description: r.description, createdBy: r.created_by, createdAt: r.created_at };
  }

  async removeGlobalBlock(sha256: string): Promise<boolean> {
    const res = await this.db.deleteFrom('app_control_global_block').where('sha256', '=', sha256).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  // Drift

  /**
   * Turns reports into drift records, each event at most once (its id is remembered in the same
   * transaction). One record per computer, content, path and access, as on the agent.
   */
  async ingestReports(reports: readonly DriftReport[]): Promise<number> {
    if (reports.length === 0) return 0;
    return this.db.transaction().execute(async (trx) => {
      let applied = 0;
      for (const rep of reports) {
        const fresh = await trx
          .insertInto('app_control_drift_events')
          .values({ event_id: rep.eventId, received_at: rep.receivedAt })
          .onConflict((oc) => oc.column('event_id').doNothing())
          .executeTakeFirst();
        if (Number(fresh.numInsertedOrUpdatedRows ?? 0) === 0) continue;
        const d = rep.details;
        const path = str(d.path);
        const sha256 = str(d.sha256);
        if (!path || !sha256) continue;
        const access = d.access === 'open' || d.access === 'disk' ? d.access : 'exec';
        const seen = isoOf(rep.time, rep.receivedAt);
        const firstSeen = isoOf(d.firstSeen, seen);
        const blocked = rep.type === 'app-control.blocked' ? 1 : 0;
        const size = typeof d.size === 'number' && Number.isFinite(d.size) ? Math.trunc(d.size) : null;
        const pkg = d.package && typeof d.package === 'object' ? toJson(d.package) : null;
        const proc = d.process && typeof d.process === 'object' ? toJson(d.process) : null;
        const user = d.user && typeof d.user === 'object' ? toJson(d.user) : null;
        const key = (q: any) =>
          q.where('computer_id', '=', rep.computerId).where('sha256', '=', sha256).where('path', '=', path).where('access', '=', access);
        const known = await key(trx.selectFrom('app_control_drift').selectAll()).executeTakeFirst();
        if (!known) {
          await trx
            .insertInto('app_control_drift')
            .values({
              id: randomUUID(),
              computer_id: rep.computerId,
              path,
              sha256,
              access,
              size,
              package: pkg,
              verdict: str(d.verdict) ?? 'unknown',
              source: str(d.source) ?? 'none',
              blocked,
              reports: 1,
              first_seen: earlierOf(firstSeen, seen),
              last_seen: seen,
              process: proc,
              user_info: user,
              status: 'open',
              decision: null,
              decided_by: null,
              decided_at: null,
            })
            .execute();
        } else {
          const newer = seen >= known.last_seen;
          await trx
            .updateTable('app_control_drift')
            .set({
              reports: Number(known.reports) + 1,
              blocked: Number(known.blocked) === 1 || blocked === 1 ? 1 : 0,
              first_seen: earlierOf(known.first_seen, firstSeen),
              last_seen: laterOf(known.last_seen, seen),
              ...(newer
                ? {
                    verdict: str(d.verdict) ?? known.verdict,
                    source: str(d.source) ?? known.source,
                    ...(size !== null ? { size } : {}),
                    ...(pkg ? { package: pkg } : {}),
                    ...(proc ? { process: proc } : {}),
                    ...(user ? { user_info: user } : {}),
                  }
                : {}),
            })
            .where('id', '=', known.id)
            .execute();
        }
        applied++;
      }
      return applied;
    });
  }

  /** Where intake resumes: the newest report taken (intake re-reads a margin before it). */
  async lastIntake(): Promise<string | undefined> {
    const r = await this.db
      .selectFrom('app_control_drift_events')
      .select((eb) => eb.fn.max('received_at').as('m'))
      .executeTakeFirst();
    return (r?.m as string | null | undefined) ?? undefined;
  }

  /** Forgets event ids older than `before`: intake never goes back that far again. */
  async pruneIntake(before: string): Promise<void> {
    await this.db.deleteFrom('app_control_drift_events').where('received_at', '<', before).execute();
  }

  async listDrift(q: DriftQuery): Promise<{ drift: DriftRecord[]; nextCursor: string | null }> {
    let sel = this.db.selectFrom('app_control_drift').selectAll();
    if (q.computerId) sel = sel.where('computer_id', '=', q.computerId);
    if (q.status) sel = sel.where('status', '=', q.status);
    if (q.sha256) sel = sel.where('sha256', '=', q.sha256);
    const c = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (c)
      sel = sel.where((eb) => eb.or([eb('last_seen', '<', c.lastSeen), eb.and([eb('last_seen', '=', c.lastSeen), eb('id', '<', c.id)])]));
    const rows = await sel
      .orderBy('last_seen', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    return { drift: page.map(toDrift), nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!) : null };
  }

  async getDrift(id: string): Promise<DriftRecord | undefined> {
    const r = await this.db.selectFrom('app_control_drift').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toDrift(r);
  }

  /**
   * Records a review on the open drift of that content on the given computers (the one a local
   * decision is for, or those a shared ruleset applies to). Returns how many records it closed.
   */
  async markReviewed(sha256: string, decision: DriftDecision, actor: string, computerIds: readonly string[]): Promise<number> {
    if (computerIds.length === 0) return 0;
    const q = this.db
      .updateTable('app_control_drift')
      .set({
        status: decision.action === 'allow' ? 'allowed' : 'blocked',
        decision: toJson(decision),
        decided_by: actor,
        decided_at: this.clock().toISOString(),
      })
      .where('sha256', '=', sha256)
      .where('status', '=', 'open');
    let n = 0;
    for (let i = 0; i < computerIds.length; i += 500) {
      const res = await q.where('computer_id', 'in', computerIds.slice(i, i + 500)).executeTakeFirst();
      n += Number(res.numUpdatedRows);
    }
    return n;
  }
}
