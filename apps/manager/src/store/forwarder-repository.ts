import type { CloudMetadata } from '@palisade/protocol';
import type { Insertable, Kysely } from 'kysely';
import {
  type DeadLetter,
  type DeadLetterPolicy,
  type DeadLetterReason,
  type Forwarder,
  type ForwarderFilter,
  type ForwarderSecrets,
  type ForwarderSettings,
  type ForwarderType,
  NO_DEAD_LETTER_LIMITS,
} from '../forwarding/forwarder-config.ts';
import type { ForwardedEvent } from '../forwarding/forwarded-event.ts';
import { matchesFilter } from '../forwarding/forwarder-filter.ts';
import type { StoredEvent } from './event-repository.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface OutboxEntry {
  id: string;
  position: string;
  event: ForwardedEvent;
  enqueuedAt: string;
  /** Failed delivery attempts so far. */
  attempts: number;
}

export interface NewForwarder {
  name: string;
  type: ForwarderType;
  settings: ForwarderSettings;
  secrets?: ForwarderSecrets;
  filter?: ForwarderFilter;
  enabled?: boolean;
}

type Row = TenantTables['forwarders'];
type EntryTable = 'forwarder_outbox' | 'forwarder_dead_letters';

/**
 * Inserts `values` into `to` (an event already there is left alone) and deletes the same ids from
 * `from`: the step both directions share (dead-lettering, retrying), inside the caller's transaction.
 */
/** What an entry keeps when it moves between the outbox and the dead letters: its id, its event and its place in the order. */
const entryIdentity = (r: Pick<TenantTables[EntryTable], 'id' | 'forwarder_id' | 'event_id' | 'position' | 'event' | 'enqueued_at'>) => ({
  id: r.id,
  forwarder_id: r.forwarder_id,
  event_id: r.event_id,
  position: r.position,
  event: r.event,
  enqueued_at: r.enqueued_at,
});

async function moveEntries<To extends EntryTable>(
  trx: Kysely<TenantTables>,
  forwarderId: string,
  from: Exclude<EntryTable, To>,
  to: To,
  values: (Insertable<TenantTables[To]> & { id: string })[],
): Promise<void> {
  await trx
    .insertInto(to)
    .values(values as never)
    .onConflict((oc) => oc.columns(['forwarder_id', 'event_id']).doNothing())
    .execute();
  await trx
    .deleteFrom(from as EntryTable)
    .where('forwarder_id', '=', forwarderId)
    .where(
      'id',
      'in',
      values.map((v) => v.id),
    )
    .execute();
}

function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || /UNIQUE constraint/.test(e.message ?? '');
}

/**
 * Outbox positions sort in the order events were stored. The counter breaks ties within one
 * millisecond (and keeps order when a test clock stands still); across manager nodes the time
 * part orders batches, which is all an agent's own ordering needs since one agent talks to one
 * node per batch.
 */
let counter = 0;
function nextPosition(at: string): string {
  counter = (counter + 1) % 1e12;
  return `${at}#${String(counter).padStart(12, '0')}`;
}

/**
 * Forwarders and their durable outbox. Events are copied into the outbox inside the same
 * transaction that stores them (see `enqueue`), so an event is either stored and queued for every
 * matching forwarder, or neither: nothing can fall between ingest and delivery.
 */
/**
 * How long the enabled forwarders' filters are cached for the ingest gate. Changes made through
 * this node apply at once; a forwarder created or enabled on another node starts taking events
 * within this time.
 */
export const ENABLED_CACHE_MS = 1000;

export class ForwarderRepository {
  private filterCache: { filters: ForwarderFilter[]; until: number } | undefined;

  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly tenantId: string,
    private readonly clock: Clock,
  ) {}

  /** Filters of the enabled forwarders, cached (real time: a cache lifetime, not business time). */
  private async enabledFilters(): Promise<ForwarderFilter[]> {
    const now = performance.now();
    if (this.filterCache && this.filterCache.until > now) return this.filterCache.filters;
    const rows = await this.db.selectFrom('forwarders').select('filter').where('enabled', '=', 1).execute();
    this.filterCache = { filters: rows.map((r) => fromJson<ForwarderFilter>(r.filter, {})), until: now + ENABLED_CACHE_MS };
    return this.filterCache.filters;
  }

  /**
   * Whether a batch would be queued for any forwarder, asked before the batch is stored: only
   * then does ingest pay for the outbox (a transaction, RETURNING, the lookups). `enqueue` then
   * decides for real, inside the transaction, from the table itself.
   */
  async wants(computerId: string, events: readonly Pick<ForwardedEvent, 'module' | 'severity' | 'type'>[]): Promise<boolean> {
    const filters = await this.enabledFilters();
    if (filters.length === 0 || events.length === 0) return false;
    let group: string | null | undefined;
    if (filters.some((f) => f.groups)) {
      const c = await this.db.selectFrom('computers').select('group_name').where('id', '=', computerId).executeTakeFirst();
      group = c?.group_name ?? null;
    }
    return filters.some((f) => events.some((e) => matchesFilter(f, { ...e, group: group ?? null })));
  }

  private async toForwarder(r: Row): Promise<Forwarder> {
    const pending = await this.db
      .selectFrom('forwarder_outbox')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('forwarder_id', '=', r.id)
      .executeTakeFirstOrThrow();
    const dead = await this.db
      .selectFrom('forwarder_dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('forwarder_id', '=', r.id)
      .executeTakeFirstOrThrow();
    return {
      id: r.id,
      name: r.name,
      type: r.type as ForwarderType,
      settings: fromJson(r.config, {} as ForwarderSettings),
      filter: fromJson(r.filter, {}),
      enabled: Number(r.enabled) === 1,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      secretsSet: Object.entries(fromJson<Record<string, unknown>>(r.secrets, {}))
        .filter(([, v]) => typeof v === 'string' && v.length > 0)
        .map(([k]) => k)
        .sort(),
      deadLetterPolicy: { ...NO_DEAD_LETTER_LIMITS, ...fromJson<Partial<DeadLetterPolicy>>(r.dead_letter_policy, {}) },
      delivery: {
        pending: Number(pending.n),
        deadLetters: Number(dead.n),
        failures: Number(r.failures),
        lastError: r.last_error,
        nextAttemptAt: r.next_attempt_at,
        lastSuccessAt: r.last_success_at,
      },
    };
  }

  async create(input: NewForwarder): Promise<Forwarder> {
    const now = this.clock().toISOString();
    const row: Row = {
      id: newId(),
      name: input.name,
      type: input.type,
      config: toJson(input.settings),
      secrets: toJson(input.secrets ?? {}),
      filter: toJson(input.filter ?? {}),
      enabled: input.enabled === false ? 0 : 1,
      created_at: now,
      updated_at: now,
      lease_owner: null,
      lease_expires_at: null,
      next_attempt_at: null,
      failures: 0,
      last_error: null,
      last_success_at: null,
      dead_letter_policy: null,
    };
    this.filterCache = undefined;
    try {
      await this.db.insertInto('forwarders').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a forwarder named ${JSON.stringify(input.name)} exists`, 'name');
      throw err;
    }
    return this.toForwarder(row);
  }

  async list(): Promise<Forwarder[]> {
    const rows = await this.db.selectFrom('forwarders').selectAll().orderBy('name').execute();
    return Promise.all(rows.map((r) => this.toForwarder(r)));
  }

  async get(id: string): Promise<Forwarder | undefined> {
    const r = await this.db.selectFrom('forwarders').selectAll().where('id', '=', id).executeTakeFirst();
    return r && this.toForwarder(r);
  }

  /** Only the dispatcher and the test action read secrets; nothing returns them to a client. */
  async secretsOf(id: string): Promise<ForwarderSecrets> {
    const r = await this.db.selectFrom('forwarders').select('secrets').where('id', '=', id).executeTakeFirst();
    return fromJson(r?.secrets, {});
  }

  async setEnabled(id: string, enabled: boolean): Promise<Forwarder | undefined> {
    this.filterCache = undefined;
    await this.db
      .updateTable('forwarders')
      .set({ enabled: enabled ? 1 : 0, updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  /** Deletes the forwarder, whatever it had not delivered yet and its dead letters. */
  async delete(id: string): Promise<boolean> {
    this.filterCache = undefined;
    return this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('forwarder_outbox').where('forwarder_id', '=', id).execute();
      await trx.deleteFrom('forwarder_dead_letters').where('forwarder_id', '=', id).execute();
      const res = await trx.deleteFrom('forwarders').where('id', '=', id).executeTakeFirst();
      return Number(res.numDeletedRows) > 0;
    });
  }

  /**
   * Queues freshly stored events for every enabled forwarder whose filter they match. Runs on the
   * ingest transaction (`db` is that transaction). Re-queuing the same event is a no-op.
   */
  async enqueue(db: Kysely<TenantTables>, computerId: string, events: readonly StoredEvent[]): Promise<number> {
    if (events.length === 0) return 0;
    const forwarders = await db.selectFrom('forwarders').select(['id', 'filter']).where('enabled', '=', 1).execute();
    if (forwarders.length === 0) return 0;
    const c = await db
      .selectFrom('computers')
      .select(['hostname', 'group_name', 'ips', 'cloud'])
      .where('id', '=', computerId)
      .executeTakeFirst();
    const now = this.clock().toISOString();
    const rows: TenantTables['forwarder_outbox'][] = [];
    const origin = {
      tenantId: this.tenantId,
      computerId,
      hostname: c?.hostname ?? computerId,
      group: c?.group_name ?? null,
      ips: fromJson<string[]>(c?.ips, []),
      instanceId: fromJson<CloudMetadata | null>(c?.cloud, null)?.instanceId ?? null,
    };
    const snapshots = events.map((e): ForwardedEvent => ({ ...e, ...origin }));
    for (const f of forwarders) {
      const filter = fromJson<ForwarderFilter>(f.filter, {});
      for (const ev of snapshots) {
        if (!matchesFilter(filter, ev)) continue;
        rows.push({
          id: newId(),
          forwarder_id: f.id,
          event_id: ev.id,
          position: nextPosition(now),
          event: toJson(ev),
          enqueued_at: now,
          attempts: 0,
        });
      }
    }
    // SQLite limits bound parameters per statement; 100 rows x 7 columns stays well inside.
    for (let i = 0; i < rows.length; i += 100) {
      await db
        .insertInto('forwarder_outbox')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) => oc.columns(['forwarder_id', 'event_id']).doNothing())
        .execute();
    }
    return rows.length;
  }

  /**
   * Enabled forwarders with something to send whose retry time has come (or that never failed).
   * Idle forwarders are not returned, so an idle installation costs one query per tick.
   */
  async due(): Promise<string[]> {
    const now = this.clock().toISOString();
    const rows = await this.db
      .selectFrom('forwarders')
      .select('id')
      .where('enabled', '=', 1)
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', now)]))
      .where((eb) =>
        eb.exists(
          eb.selectFrom('forwarder_outbox').select('forwarder_outbox.id').whereRef('forwarder_outbox.forwarder_id', '=', 'forwarders.id'),
        ),
      )
      .orderBy('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Takes the forwarder's delivery lease. Only the holder sends, so a forwarder's events leave in
   * order even with several manager nodes; a node that dies loses the lease when it expires.
   */
  async claim(id: string, owner: string, leaseSeconds: number): Promise<boolean> {
    const now = this.clock();
    const res = await this.db
      .updateTable('forwarders')
      .set({ lease_owner: owner, lease_expires_at: new Date(now.getTime() + leaseSeconds * 1000).toISOString() })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('lease_owner', 'is', null), eb('lease_owner', '=', owner), eb('lease_expires_at', '<', now.toISOString())]))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async release(id: string, owner: string): Promise<void> {
    await this.db
      .updateTable('forwarders')
      .set({ lease_owner: null, lease_expires_at: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
  }

  /** The oldest undelivered events of a forwarder, in the order they were stored. */
  async peek(id: string, limit: number): Promise<OutboxEntry[]> {
    const rows = await this.db
      .selectFrom('forwarder_outbox')
      .select(['id', 'position', 'event', 'enqueued_at', 'attempts'])
      .where('forwarder_id', '=', id)
      .orderBy('position')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      position: r.position,
      event: fromJson(r.event, {} as ForwardedEvent),
      enqueuedAt: r.enqueued_at,
      attempts: Number(r.attempts),
    }));
  }

  /** Delivered: drop the entries and clear the failure state. */
  async delivered(id: string, entryIds: readonly string[]): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      for (let i = 0; i < entryIds.length; i += 500) {
        await trx
          .deleteFrom('forwarder_outbox')
          .where('forwarder_id', '=', id)
          .where('id', 'in', entryIds.slice(i, i + 500))
          .execute();
      }
      await trx
        .updateTable('forwarders')
        .set({ failures: 0, last_error: null, next_attempt_at: null, last_success_at: this.clock().toISOString() })
        .where('id', '=', id)
        .execute();
    });
  }

  /** A failed attempt: the entries stay, and nothing is tried again before `retryAt`. */
  async failed(id: string, error: string, retryAt: Date): Promise<number> {
    const r = await this.db.selectFrom('forwarders').select('failures').where('id', '=', id).executeTakeFirst();
    const failures = Number(r?.failures ?? 0) + 1;
    await this.db
      .updateTable('forwarders')
      .set({ failures, last_error: error.slice(0, 1000), next_attempt_at: retryAt.toISOString() })
      .where('id', '=', id)
      .execute();
    return failures;
  }

  async failuresOf(id: string): Promise<number> {
    const r = await this.db.selectFrom('forwarders').select('failures').where('id', '=', id).executeTakeFirst();
    return Number(r?.failures ?? 0);
  }

  async setDeadLetterPolicy(id: string, policy: DeadLetterPolicy): Promise<Forwarder | undefined> {
    await this.db
      .updateTable('forwarders')
      .set({ dead_letter_policy: toJson(policy), updated_at: this.clock().toISOString() })
      .where('id', '=', id)
      .execute();
    return this.get(id);
  }

  /** One more failed attempt for these entries (the `maxAttempts` policy counts them). */
  async recordAttempt(id: string, entryIds: readonly string[]): Promise<void> {
    for (let i = 0; i < entryIds.length; i += 500) {
      await this.db
        .updateTable('forwarder_outbox')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('forwarder_id', '=', id)
        .where('id', 'in', entryIds.slice(i, i + 500))
        .execute();
    }
  }

  /**
   * Moves outbox entries to the dead letters, in one transaction: an entry is either still queued
   * or dead-lettered, never both or neither. Returns how many moved.
   */
  async deadLetter(id: string, entryIds: readonly string[], reason: DeadLetterReason, error: string): Promise<number> {
    if (entryIds.length === 0) return 0;
    const now = this.clock().toISOString();
    return this.db.transaction().execute(async (trx) => {
      let moved = 0;
      for (let i = 0; i < entryIds.length; i += 100) {
        const rows = await trx
          .selectFrom('forwarder_outbox')
          .selectAll()
          .where('forwarder_id', '=', id)
          .where('id', 'in', entryIds.slice(i, i + 100))
          .execute();
        if (rows.length === 0) continue;
        await moveEntries(
          trx,
          id,
          'forwarder_outbox',
          'forwarder_dead_letters',
          rows.map((r) => ({
            ...entryIdentity(r),
            dead_at: now,
            attempts: Number(r.attempts),
            reason,
            last_error: error.slice(0, 1000),
          })),
        );
        moved += rows.length;
      }
      return moved;
    });
  }

  /** Dead letters of a forwarder, oldest first (outbox order); `after` is the last id of the previous page. */
  async listDeadLetters(id: string, opts: { limit?: number; after?: string } = {}): Promise<DeadLetter[]> {
    let q = this.db.selectFrom('forwarder_dead_letters').selectAll().where('forwarder_id', '=', id);
    if (opts.after) {
      const from = await this.db
        .selectFrom('forwarder_dead_letters')
        .select(['position', 'id'])
        .where('forwarder_id', '=', id)
        .where('id', '=', opts.after)
        .executeTakeFirst();
      if (from)
        q = q.where((eb) =>
          eb.or([eb('position', '>', from.position), eb.and([eb('position', '=', from.position), eb('id', '>', from.id)])]),
        );
    }
    const rows = await q
      .orderBy('position')
      .orderBy('id')
      .limit(opts.limit ?? 100)
      .execute();
    return rows.map((r) => {
      const ev = fromJson(r.event, {} as ForwardedEvent);
      return {
        id: r.id,
        forwarderId: r.forwarder_id,
        eventId: r.event_id,
        enqueuedAt: r.enqueued_at,
        deadAt: r.dead_at,
        attempts: Number(r.attempts),
        reason: r.reason as DeadLetterReason,
        lastError: r.last_error,
        event: {
          module: ev.module,
          type: ev.type,
          severity: ev.severity,
          time: ev.time,
          computerId: ev.computerId,
          hostname: ev.hostname,
          message: ev.message,
        },
      };
    });
  }

  async countDeadLetters(id: string): Promise<number> {
    const r = await this.db
      .selectFrom('forwarder_dead_letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('forwarder_id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /** Dead letters per forwarder (for the metric), forwarders without any included as 0. */
  async deadLetterCounts(): Promise<{ forwarderId: string; name: string; count: number }[]> {
    const forwarders = await this.db.selectFrom('forwarders').select(['id', 'name']).orderBy('name').execute();
    if (forwarders.length === 0) return [];
    const counts = await this.db
      .selectFrom('forwarder_dead_letters')
      .select(['forwarder_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('forwarder_id')
      .execute();
    const by = new Map(counts.map((c) => [c.forwarder_id, Number(c.n)]));
    return forwarders.map((f) => ({ forwarderId: f.id, name: f.name, count: by.get(f.id) ?? 0 }));
  }

  /**
   * Puts dead letters (all, or the given ids) back into the outbox at their old positions, so they
   * are sent next, before anything queued after them; their attempt count starts again.
   */
  async retryDeadLetters(id: string, ids?: readonly string[]): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      let q = trx.selectFrom('forwarder_dead_letters').selectAll().where('forwarder_id', '=', id);
      if (ids) {
        if (ids.length === 0) return 0;
        q = q.where('id', 'in', [...ids]);
      }
      const rows = await q.execute();
      for (let i = 0; i < rows.length; i += 100) {
        const chunk = rows.slice(i, i + 100);
        await moveEntries(
          trx,
          id,
          'forwarder_dead_letters',
          'forwarder_outbox',
          chunk.map((r) => ({
            ...entryIdentity(r),
            attempts: 0,
          })),
        );
      }
      return rows.length;
    });
  }

  /** Drops dead letters (all, or the given ids) for good. */
  async discardDeadLetters(id: string, ids?: readonly string[]): Promise<number> {
    let q = this.db.deleteFrom('forwarder_dead_letters').where('forwarder_id', '=', id);
    if (ids) {
      if (ids.length === 0) return 0;
      q = q.where('id', 'in', [...ids]);
    }
    const res = await q.executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
