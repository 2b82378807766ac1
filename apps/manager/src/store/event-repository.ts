import type { EventSummary } from '@palisade/protocol';
import type { AgentEvent } from '@palisade/protocol';
import { type Kysely, sql } from 'kysely';
import { type Clock, fromJson, toJson } from './json-column.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface StoredEvent extends AgentEvent {
  computerId: string;
  receivedAt: string;
}

export interface EventQuery {
  computerId?: string;
  module?: string;
  type?: string;
  severity?: string[];
  ruleId?: string;
  since?: string;
  until?: string;
  limit: number;
  /** Opaque cursor from the previous page (newest first). */
  cursor?: string;
}

type Row = TenantTables['events'];
const toEvent = (r: Row): StoredEvent => ({
  id: r.id,
  computerId: r.computer_id,
  time: r.time,
  module: r.module as AgentEvent['module'],
  type: r.type,
  severity: r.severity as AgentEvent['severity'],
  ...(r.rule_id !== null ? { ruleId: r.rule_id } : {}),
  message: r.message,
  ...(r.details !== null ? { details: fromJson(r.details, {}) } : {}),
  receivedAt: r.received_at,
});

function encodeCursor(r: { time: string; id: string }): string {
  return Buffer.from(JSON.stringify([r.time, r.id])).toString('base64url');
}

export function decodeCursor(cursor: string): { time: string; id: string } | undefined {
  try {
    const [time, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [unknown, unknown];
    return typeof time === 'string' && typeof id === 'string' ? { time, id } : undefined;
  } catch {
    return undefined;
  }
}

/** The form toISOString() gives for years 0000–9999; agents send it, so most times need no parsing. */
const CANONICAL_TIME = /^\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/;

/** Normalises agent times to the one text form that sorts correctly. */
function normaliseTime(t: string): string {
  // A day of month the month does not have (02-30) still goes through Date, which rolls it over.
  if (CANONICAL_TIME.test(t) && Number(t.slice(8, 10)) <= 28) return t;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? t : new Date(ms).toISOString();
}

/**
 * Called inside the transaction that stores a batch, with the events that were new (not
 * duplicates): work that must happen exactly when an event is stored (the forwarding outbox)
 * commits or rolls back with it.
 */
export type IngestListener = (trx: Kysely<TenantTables>, computerId: string, inserted: StoredEvent[]) => Promise<void>;
/** Asked before each batch: a listener with nothing to do keeps ingest on the plain, faster path. */
export type IngestInterest = (computerId: string, events: readonly AgentEvent[]) => boolean | Promise<boolean>;

export class EventRepository {
  private readonly listeners: { listener: IngestListener; wanted: IngestInterest }[] = [];

  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly clock: Clock,
    private readonly dialect: 'sqlite' | 'postgres' = 'sqlite',
  ) {}

  /**
   * Inserts rows, skipping ids already stored; returns the ids that were new. On PostgreSQL the
   * whole batch is one statement over ten array parameters (`unnest`): a VALUES list of 100 rows
   * has 1,000 parameters for the query builder to compile and the server to parse, and cost
   * about twice the CPU per event on both sides. SQLite takes VALUES in slices of 100 rows (its
   * limit on bound parameters).
   */
  private async insertNew(db: Kysely<TenantTables>, rows: readonly Row[]): Promise<string[]> {
    if (this.dialect === 'postgres') {
      const col = <K extends keyof Row>(k: K) => rows.map((r) => r[k]);
      const res = await sql<{ id: string }>`
        INSERT INTO events (id, computer_id, module, type, severity, rule_id, message, details, time, received_at)
        SELECT * FROM unnest(${col('id')}::text[], ${col('computer_id')}::text[], ${col('module')}::text[],
          ${col('type')}::text[], ${col('severity')}::text[], ${col('rule_id')}::text[], ${col('message')}::text[],
          ${col('details')}::text[], ${col('time')}::text[], ${col('received_at')}::text[])
        ON CONFLICT (id) DO NOTHING
        RETURNING id`.execute(db);
      return res.rows.map((r) => r.id);
    }
    const fresh: string[] = [];
    for (let i = 0; i < rows.length; i += 100) {
      const res = await db
        .insertInto('events')
        .values(rows.slice(i, i + 100))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      for (const r of res) fresh.push(r.id);
    }
    return fresh;
  }

  onIngest(listener: IngestListener, wanted: IngestInterest = () => true): void {
    this.listeners.push({ listener, wanted });
  }

  /**
   * Stores a batch idempotently: an id already stored is skipped, so an agent that re-sends a
   * batch after a lost acknowledgement never creates duplicates.
   */
  async ingest(computerId: string, events: readonly AgentEvent[]): Promise<{ inserted: number; duplicates: number }> {
    if (events.length === 0) return { inserted: 0, duplicates: 0 };
    const receivedAt = this.clock().toISOString();
    const unique = new Map(events.map((e) => [e.id, e]));
    const rows: Row[] = [...unique.values()].map((e) => ({
      id: e.id,
      computer_id: computerId,
      module: e.module,
      type: e.type,
      severity: e.severity,
      rule_id: e.ruleId ?? null,
      message: e.message,
      details: e.details ? toJson(e.details) : null,
      time: normaliseTime(e.time),
      received_at: receivedAt,
    }));
    const active: IngestListener[] = [];
    for (const l of this.listeners) if (await l.wanted(computerId, events)) active.push(l.listener);
    if (active.length === 0) {
      const inserted = (await this.insertNew(this.db, rows)).length;
      return { inserted, duplicates: events.length - inserted };
    }
    // The listeners need to know which rows were new, and must commit with them.
    let inserted = 0;
    await this.db.transaction().execute(async (trx) => {
      const fresh = new Set(await this.insertNew(trx, rows));
      inserted = fresh.size;
      const stored = rows.filter((r) => fresh.has(r.id)).map(toEvent);
      for (const l of active) await l(trx, computerId, stored);
    });
    return { inserted, duplicates: events.length - inserted };
  }

  async query(q: EventQuery): Promise<{ events: StoredEvent[]; nextCursor: string | null }> {
    let sel = this.db.selectFrom('events').selectAll();
    if (q.computerId) sel = sel.where('computer_id', '=', q.computerId);
    if (q.module) sel = sel.where('module', '=', q.module);
    if (q.type) sel = sel.where('type', '=', q.type);
    if (q.ruleId) sel = sel.where('rule_id', '=', q.ruleId);
    if (q.severity?.length) sel = sel.where('severity', 'in', q.severity);
    if (q.since) sel = sel.where('time', '>=', normaliseTime(q.since));
    if (q.until) sel = sel.where('time', '<', normaliseTime(q.until));
    const c = q.cursor ? decodeCursor(q.cursor) : undefined;
    if (c) sel = sel.where((eb) => eb.or([eb('time', '<', c.time), eb.and([eb('time', '=', c.time), eb('id', '<', c.id)])]));
    const rows = await sel
      .orderBy('time', 'desc')
      .orderBy('id', 'desc')
      .limit(q.limit + 1)
      .execute();
    const page = rows.slice(0, q.limit);
    return {
      events: page.map(toEvent),
      nextCursor: rows.length > q.limit ? encodeCursor(page[page.length - 1]!) : null,
    };
  }

  async get(id: string): Promise<StoredEvent | undefined> {
    const r = await this.db.selectFrom('events').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toEvent(r);
  }

  async count(filter: { computerId?: string; module?: string; type?: string } = {}): Promise<number> {
    let sel = this.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n'));
    if (filter.computerId) sel = sel.where('computer_id', '=', filter.computerId);
    if (filter.module) sel = sel.where('module', '=', filter.module);
    if (filter.type) sel = sel.where('type', '=', filter.type);
    return Number((await sel.executeTakeFirstOrThrow()).n);
  }

  /** Events per module per hour (UTC), for dashboards. */
  async countsPerHour(since: string, until?: string): Promise<{ hour: string; module: string; count: number }[]> {
    const hour = sql<string>`substr(time, 1, 13)`;
    let sel = this.db
      .selectFrom('events')
      .select([hour.as('hour'), 'module', (eb) => eb.fn.countAll<number>().as('count')])
      .where('time', '>=', normaliseTime(since));
    if (until) sel = sel.where('time', '<', normaliseTime(until));
    const rows = await sel.groupBy([hour, 'module']).orderBy(hour).orderBy('module').execute();
    return rows.map((r) => ({ hour: `${r.hour}:00:00Z`, module: r.module, count: Number(r.count) }));
  }

  /** Dashboard aggregates over [since, until): totals, blocked/detected, top lists, per-hour counts. */
  async summary(dialect: 'sqlite' | 'postgres', q: { since: string; until: string; top: number }): Promise<EventSummary> {
    return summariseEvents(this, this.db, dialect, q);
  }
}

export type { EventSummary };

/**
 * What counts as "blocked": the event's `details.action` (or, without one, its type) names a
 * stopping action. The same words as the console's outcomeOf(), as SQL LIKE patterns.
 */
const BLOCKING_WORDS = ['block', 'deny', 'drop', 'reject', 'quarantin', 'prevent', 'fail-closed', 'kill'];

/**
 * Dashboard aggregates over a whole time window, computed by the database (GROUP BY) so the
 * answer is exact however many events the window holds. JSON is read with each dialect's own
 * functions: SQLite json_extract/json_each, PostgreSQL ->> and json_array_elements_text.
 */
async function summariseEvents(
  repo: EventRepository,
  db: Kysely<TenantTables>,
  dialect: 'sqlite' | 'postgres',
  q: { since: string; until: string; top: number },
): Promise<EventSummary> {
  const since = normaliseTime(q.since);
  const until = normaliseTime(q.until);
  const inWindow = sql`time >= ${since} and time < ${until}`;
  const action =
    dialect === 'postgres'
      ? sql`lower(coalesce(case when details is not null and json_typeof(details::json) = 'object' then details::json->>'action' end, type))`
      : sql`lower(coalesce(case when json_valid(details) and json_type(details) = 'object' then json_extract(details, '$.action') end, type))`;
  const blocking = sql.join(
    BLOCKING_WORDS.map((w) => sql`${action} like ${`%${w}%`}`),
    sql` or `,
  );
  const totals = await sql<{ total: number | string; blocked: number | string | null; protective: number | string | null }>`
    select count(*) as total,
      sum(case when module <> 'system' and (${blocking}) then 1 else 0 end) as blocked,
      sum(case when module <> 'system' then 1 else 0 end) as protective
    from events where ${inWindow}`.execute(db);
  const t = totals.rows[0]!;
  const topComputers = await sql<{ computer_id: string; hostname: string | null; count: number | string }>`
    select e.computer_id, c.hostname, e.count from (
      select computer_id, count(*) as count from events
      where ${inWindow} and module <> 'system'
      group by computer_id order by count(*) desc, computer_id limit ${q.top}
    ) e left join computers c on c.id = e.computer_id
    order by e.count desc, e.computer_id`.execute(db);
  const topRules = await sql<{ module: string; rule_id: string; count: number | string }>`
    select module, rule_id, count(*) as count from events
    where ${inWindow} and rule_id is not null
    group by module, rule_id order by count(*) desc, module, rule_id limit ${q.top}`.execute(db);
  // Only events whose details mention "cves" are expanded; a plain LIKE keeps the JSON work small.
  const topCves =
    dialect === 'postgres'
      ? await sql<{ cve: string; count: number | string }>`
          select cve, count(*) as count from (
            select distinct e.id, x.cve from events e
            cross join lateral json_array_elements_text(
              case when json_typeof(e.details::json -> 'cves') = 'array' then e.details::json -> 'cves' else '[]'::json end
            ) as x(cve)
            where e.time >= ${since} and e.time < ${until} and e.details like '%"cves"%' and json_typeof(e.details::json) = 'object'
          ) d group by cve order by count(*) desc, cve limit ${q.top}`.execute(db)
      : await sql<{ cve: string; count: number | string }>`
          select cve, count(*) as count from (
            select distinct e.id, j.value as cve from events e, json_each(e.details, '$.cves') j
            where e.time >= ${since} and e.time < ${until} and e.details like '%"cves"%'
              and json_valid(e.details) and json_type(e.details) = 'object' and json_type(e.details, '$.cves') = 'array'
              and j.type = 'text'
          ) d group by cve order by count(*) desc, cve limit ${q.top}`.execute(db);
  const perHour = await repo.countsPerHour(since, until);
  const blocked = Number(t.blocked ?? 0);
  return {
    since,
    until,
    total: Number(t.total),
    blocked,
    detected: Number(t.protective ?? 0) - blocked,
    topComputers: topComputers.rows.map((r) => ({ computerId: r.computer_id, hostname: r.hostname, count: Number(r.count) })),
    topRules: topRules.rows.map((r) => ({ module: r.module, ruleId: r.rule_id, count: Number(r.count) })),
    topCves: topCves.rows.map((r) => ({ cve: String(r.cve), count: Number(r.count) })),
    perHour,
  };
}
