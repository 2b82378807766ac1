import { type Kysely, sql } from 'kysely';
import type {
  Playbook,
  PlaybookAction,
  PlaybookActionRecord,
  PlaybookActionStatus,
  PlaybookInput,
  NormalizedSafeguards,
  NormalizedTrigger,
} from '../playbooks/playbook-schema.ts';
import { normalizeAction, normalizeSafeguards, normalizeTrigger } from '../playbooks/playbook-schema.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e.message ?? '');
}

type PlaybookRow = TenantTables['playbooks'];
type ActionRow = TenantTables['playbook_actions'];

/** Secrets of a playbook's actions by action index (webhook HMAC keys); never returned by reads. */
export type PlaybookSecrets = Record<number, { secret?: string }>;

const toPlaybook = (r: PlaybookRow): Playbook => ({
  id: r.id,
  name: r.name,
  description: r.description,
  enabled: r.enabled === 1,
  trigger: normalizeTrigger(fromJson<NormalizedTrigger>(r.trigger, { filter: {}, threshold: 1, windowSeconds: 60, groupBy: 'attacker' })),
  actions: fromJson<PlaybookAction[]>(r.actions, []),
  safeguards: normalizeSafeguards(fromJson<NormalizedSafeguards>(r.safeguards, { allowList: [], maxRunsPerHour: 20 })),
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toRecord = (r: ActionRow): PlaybookActionRecord => ({
  id: r.id,
  playbookId: r.playbook_id,
  runId: r.run_id,
  triggerKey: r.trigger_key,
  actionIndex: r.action_index,
  actionType: r.action_type as PlaybookActionRecord['actionType'],
  status: r.status as PlaybookActionStatus,
  inputs: fromJson(r.inputs, {}),
  result: fromJson(r.result, {}),
  error: r.error,
  computerId: r.computer_id,
  eventIds: fromJson<string[]>(r.event_ids, []),
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  undoneAt: r.undone_at,
  undoResult: fromJson<Record<string, unknown> | null>(r.undo_result, null),
  undoable: r.undoable === 1,
});

/** Webhook secrets leave the action documents before they are stored or shown. */
function splitSecrets(actions: PlaybookAction[]): { actions: PlaybookAction[]; secrets: PlaybookSecrets } {
  const secrets: PlaybookSecrets = {};
  const clean = actions.map((a, i) => {
    if (a.type !== 'webhook' || a.secret === undefined) return a;
    const { secret, ...rest } = a;
    secrets[i] = { secret };
    return { ...rest, hasSecret: true } as unknown as PlaybookAction;
  });
  return { actions: clean, secrets };
}

/**
 * The enabled playbooks are asked for with every stored event batch; they are read at most once a
 * second per manager node (and again at once after a change through this node), instead of once
 * per batch. A playbook changed through another node starts applying within that second.
 */
const ENABLED_CACHE_MS = 1_000;

export class PlaybookRepository {
  private enabled: { at: number; playbooks: Promise<Playbook[]> } | undefined;

  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {}

  async list(): Promise<Playbook[]> {
    return (await this.db.selectFrom('playbooks').selectAll().orderBy('name').execute()).map(toPlaybook);
  }

  listEnabled(): Promise<Playbook[]> {
    if (this.enabled && performance.now() - this.enabled.at < ENABLED_CACHE_MS) return this.enabled.playbooks;
    const playbooks = this.db
      .selectFrom('playbooks')
      .selectAll()
      .where('enabled', '=', 1)
      .orderBy('name')
      .execute()
      .then((rows) => rows.map(toPlaybook));
    const entry = { at: performance.now(), playbooks };
    this.enabled = entry;
    // A failed read is not remembered.
    playbooks.catch(() => {
      if (this.enabled === entry) this.enabled = undefined;
    });
    return playbooks;
  }

  async get(idOrName: string): Promise<Playbook | undefined> {
    const r = await this.db
      .selectFrom('playbooks')
      .selectAll()
      .where((eb) => eb.or([eb('id', '=', idOrName), eb('name', '=', idOrName)]))
      .executeTakeFirst();
    return r && toPlaybook(r);
  }

  async secrets(id: string): Promise<PlaybookSecrets> {
    const r = await this.db.selectFrom('playbooks').select('secrets').where('id', '=', id).executeTakeFirst();
    return fromJson<PlaybookSecrets>(r?.secrets, {});
  }

  async create(input: PlaybookInput): Promise<Playbook> {
    const now = this.clock().toISOString();
    const { actions, secrets } = splitSecrets(input.actions.map(normalizeAction));
    const row: PlaybookRow = {
      id: newId(),
      name: input.name,
      description: input.description ?? '',
      enabled: input.enabled === false ? 0 : 1,
      trigger: toJson(normalizeTrigger(input.trigger)),
      actions: toJson(actions),
      secrets: toJson(secrets),
      safeguards: toJson(normalizeSafeguards(input.safeguards)),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.insertInto('playbooks').values(row).execute();
      this.enabled = undefined;
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a playbook named ${JSON.stringify(input.name)} exists`, 'name');
      throw err;
    }
    return toPlaybook(row);
  }

  /** Replaces the definition; a webhook action given without a secret keeps the one it had. */
  async update(id: string, patch: Partial<PlaybookInput>): Promise<Playbook> {
    const cur = await this.get(id);
    if (!cur || cur.id !== id) throw new StoreError('STORE_NOT_FOUND', `no playbook ${id}`);
    const set: Partial<PlaybookRow> = { updated_at: this.clock().toISOString() };
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
    if (patch.trigger !== undefined) set.trigger = toJson(normalizeTrigger(patch.trigger));
    if (patch.safeguards !== undefined) set.safeguards = toJson(normalizeSafeguards(patch.safeguards));
    if (patch.actions !== undefined) {
      const old = await this.secrets(id);
      const { actions, secrets } = splitSecrets(patch.actions.map(normalizeAction));
      for (const [i, a] of patch.actions.entries()) if (a.type === 'webhook' && a.secret === undefined && old[i]) secrets[i] = old[i]!;
      set.actions = toJson(actions);
      set.secrets = toJson(secrets);
    }
    try {
      await this.db.updateTable('playbooks').set(set).where('id', '=', id).execute();
      this.enabled = undefined;
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a playbook named ${JSON.stringify(patch.name)} exists`, 'name');
      throw err;
    }
    return (await this.get(id))!;
  }

  async delete(id: string): Promise<void> {
    const res = await this.db.deleteFrom('playbooks').where('id', '=', id).executeTakeFirst();
    this.enabled = undefined;
    if (Number(res.numDeletedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no playbook ${id}`);
    await this.db.deleteFrom('playbook_hits').where('playbook_id', '=', id).execute();
  }

  /** False when this event was already counted (an agent re-sent its batch). */
  async recordHit(playbookId: string, eventId: string, triggerKey: string, time: string): Promise<boolean> {
    const res = await this.db
      .insertInto('playbook_hits')
      .values({ playbook_id: playbookId, event_id: eventId, trigger_key: triggerKey, time })
      .onConflict((oc) => oc.columns(['playbook_id', 'event_id']).doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /**
   * Records a batch's hits in a few statements; returns the ids that were new (a re-sent batch
   * returns none of its events).
   */
  async recordHits(playbookId: string, hits: ReadonlyArray<{ eventId: string; triggerKey: string }>, time: string): Promise<Set<string>> {
    const fresh = new Set<string>();
    for (let i = 0; i < hits.length; i += 100) {
      const rows = await this.db
        .insertInto('playbook_hits')
        .values(hits.slice(i, i + 100).map((h) => ({ playbook_id: playbookId, event_id: h.eventId, trigger_key: h.triggerKey, time })))
        .onConflict((oc) => oc.columns(['playbook_id', 'event_id']).doNothing())
        .returning('event_id')
        .execute();
      for (const r of rows) fresh.add(r.event_id);
    }
    return fresh;
  }

  /** Hits per key since a time, for many keys in one statement per 500 keys. */
  async countHits(playbookId: string, triggerKeys: readonly string[], since: string): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (let i = 0; i < triggerKeys.length; i += 500) {
      const rows = await this.db
        .selectFrom('playbook_hits')
        .select(['trigger_key', sql<number>`count(*)`.as('n')])
        .where('playbook_id', '=', playbookId)
        .where('trigger_key', 'in', triggerKeys.slice(i, i + 500))
        .where('time', '>=', since)
        .groupBy('trigger_key')
        .execute();
      for (const r of rows) out.set(r.trigger_key, Number(r.n));
    }
    return out;
  }

  async hitsSince(playbookId: string, triggerKey: string, since: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('playbook_hits')
      .select('event_id')
      .where('playbook_id', '=', playbookId)
      .where('trigger_key', '=', triggerKey)
      .where('time', '>=', since)
      .orderBy('time')
      .execute();
    return rows.map((r) => r.event_id);
  }

  async pruneHits(before: string): Promise<void> {
    await this.db.deleteFrom('playbook_hits').where('time', '<', before).execute();
  }

  /** Whether the playbook already fired (or was rate-limited) for this key since `since`: one decision per key and window. */
  async firedSince(playbookId: string, triggerKey: string, since: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('playbook_actions')
      .select('id')
      .where('playbook_id', '=', playbookId)
      .where('trigger_key', '=', triggerKey)
      .where('created_at', '>=', since)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Whether an earlier run for this key is still in force (a block not yet expired or undone). */
  async activeFor(playbookId: string, triggerKey: string): Promise<boolean> {
    const r = await this.db
      .selectFrom('playbook_actions')
      .select('id')
      .where('playbook_id', '=', playbookId)
      .where('trigger_key', '=', triggerKey)
      .where('status', '=', 'succeeded')
      .where('undoable', '=', 1)
      .executeTakeFirst();
    return r !== undefined;
  }

  /** Runs that did something (not rate-limited, not skipped by a safeguard) since a time, for the per-hour limit. */
  async runsSince(playbookId: string, since: string): Promise<number> {
    const r = await this.db
      .selectFrom('playbook_actions')
      .select(sql<number>`count(distinct run_id)`.as('n'))
      .where('playbook_id', '=', playbookId)
      .where('created_at', '>=', since)
      .where('status', 'not in', ['rate-limited', 'skipped'])
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  async recordAction(rec: Omit<PlaybookActionRecord, 'id' | 'createdAt' | 'undoneAt' | 'undoResult'>): Promise<PlaybookActionRecord> {
    const row: ActionRow = {
      id: newId(),
      playbook_id: rec.playbookId,
      run_id: rec.runId,
      trigger_key: rec.triggerKey,
      action_index: rec.actionIndex,
      action_type: rec.actionType,
      status: rec.status,
      inputs: toJson(rec.inputs),
      result: toJson(rec.result),
      error: rec.error,
      computer_id: rec.computerId,
      event_ids: toJson(rec.eventIds),
      undoable: rec.undoable ? 1 : 0,
      created_at: this.clock().toISOString(),
      expires_at: rec.expiresAt,
      undone_at: null,
      undo_result: null,
    };
    await this.db.insertInto('playbook_actions').values(row).execute();
    return toRecord(row);
  }

  async action(id: string): Promise<PlaybookActionRecord | undefined> {
    const r = await this.db.selectFrom('playbook_actions').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toRecord(r);
  }

  async listActions(filter: { playbookId?: string; status?: string; limit?: number } = {}): Promise<PlaybookActionRecord[]> {
    let q = this.db.selectFrom('playbook_actions').selectAll().orderBy('created_at', 'desc').orderBy('action_index', 'desc');
    if (filter.playbookId) q = q.where('playbook_id', '=', filter.playbookId);
    if (filter.status) q = q.where('status', '=', filter.status);
    return (await q.limit(filter.limit ?? 200).execute()).map(toRecord);
  }

  /**
   * Marks an action reversed. Compare-and-set on the status, so two nodes sweeping expiries (or
   * an operator and the sweeper) reverse it once.
   */
  async claimUndo(id: string, from: readonly PlaybookActionStatus[]): Promise<boolean> {
    const res = await this.db
      .updateTable('playbook_actions')
      .set({ status: 'undoing' })
      .where('id', '=', id)
      .where('status', 'in', [...from])
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async finishUndo(id: string, status: PlaybookActionStatus, undoResult: Record<string, unknown>): Promise<PlaybookActionRecord> {
    await this.db
      .updateTable('playbook_actions')
      .set({ status, undone_at: this.clock().toISOString(), undo_result: toJson(undoResult) })
      .where('id', '=', id)
      .execute();
    return (await this.action(id))!;
  }

  /** Succeeded, undoable actions whose expiry has passed. */
  async dueExpiries(now: string): Promise<PlaybookActionRecord[]> {
    const rows = await this.db
      .selectFrom('playbook_actions')
      .selectAll()
      .where('status', '=', 'succeeded')
      .where('undoable', '=', 1)
      .where('expires_at', 'is not', null)
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .limit(100)
      .execute();
    return rows.map(toRecord);
  }
}
