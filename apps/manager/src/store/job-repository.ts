import { type Kysely, sql } from 'kysely';
import type { Dialect } from './database-factory.ts';
import { type Clock, fromJson, toJson } from './json-column.ts';
import { isUniqueViolation } from './policy-repository.ts';
import { newId } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';

export interface Job {
  id: string;
  kind: string;
  args: Record<string, unknown>;
  dedupeKey: string | null;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  runAt: string;
  attempts: number;
  leaseOwner: string | null;
  leaseExpiresAt: string | null;
  createdAt: string;
  finishedAt: string | null;
  result: unknown;
  error: string | null;
}

type Row = TenantTables['jobs'];
const toJob = (r: Row): Job => ({
  id: r.id,
  kind: r.kind,
  args: fromJson(r.args, {}),
  dedupeKey: r.dedupe_key,
  status: r.status as Job['status'],
  runAt: r.run_at,
  attempts: Number(r.attempts),
  leaseOwner: r.lease_owner,
  leaseExpiresAt: r.lease_expires_at,
  createdAt: r.created_at,
  finishedAt: r.finished_at,
  result: fromJson(r.result, null),
  error: r.error,
});

export const MAX_JOB_ATTEMPTS = 5;

/**
 * A durable job table with leases. Several manager nodes can poll it: a job is claimed by one
 * UPDATE that sets the lease, so it runs once; if its node dies the lease expires and another
 * node takes it over.
 */
export class JobRepository {
  constructor(
    private readonly db: Kysely<TenantTables>,
    private readonly dialect: Dialect,
    private readonly clock: Clock,
  ) {}

  /** Returns undefined when a job with the same dedupe key exists (e.g. the same schedule tick). */
  async enqueue(kind: string, args: Record<string, unknown>, opts: { runAt?: Date; dedupeKey?: string } = {}): Promise<Job | undefined> {
    const now = this.clock();
    const row: Row = {
      id: newId(),
      kind,
      args: toJson(args),
      dedupe_key: opts.dedupeKey ?? null,
      status: 'queued',
      run_at: (opts.runAt ?? now).toISOString(),
      attempts: 0,
      lease_owner: null,
      lease_expires_at: null,
      created_at: now.toISOString(),
      finished_at: null,
      result: null,
      error: null,
    };
    try {
      await this.db.insertInto('jobs').values(row).execute();
    } catch (err) {
      if (opts.dedupeKey && isUniqueViolation(err)) return undefined;
      throw err;
    }
    return toJob(row);
  }

  async claim(owner: string, leaseSeconds: number): Promise<Job | undefined> {
    const now = this.clock();
    const nowIso = now.toISOString();
    const until = new Date(now.getTime() + leaseSeconds * 1000).toISOString();
    const lock = this.dialect === 'postgres' ? sql`FOR UPDATE SKIP LOCKED` : sql``;
    const res = await sql<Row>`
      UPDATE jobs SET status = 'running', lease_owner = ${owner}, lease_expires_at = ${until}, attempts = attempts + 1
      WHERE id = (
        SELECT id FROM jobs
        WHERE (status = 'queued' AND run_at <= ${nowIso}) OR (status = 'running' AND lease_expires_at < ${nowIso})
        ORDER BY run_at LIMIT 1 ${lock}
      )
      AND ((status = 'queued' AND run_at <= ${nowIso}) OR (status = 'running' AND lease_expires_at < ${nowIso}))
      RETURNING *`.execute(this.db);
    const r = res.rows[0];
    return r ? toJob(r) : undefined;
  }

  /** Only the lease holder can finish a job, so a node whose lease expired cannot overwrite. */
  async succeed(id: string, owner: string, result: unknown): Promise<boolean> {
    const res = await this.db
      .updateTable('jobs')
      .set({ status: 'succeeded', finished_at: this.clock().toISOString(), result: toJson(result), lease_expires_at: null })
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .where('status', '=', 'running')
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async fail(id: string, owner: string, error: string): Promise<boolean> {
    const job = await this.get(id);
    if (!job || job.leaseOwner !== owner || job.status !== 'running') return false;
    const now = this.clock();
    const retry = job.attempts < MAX_JOB_ATTEMPTS;
    const backoffMs = Math.min(2 ** job.attempts * 1000, 300_000);
    await this.db
      .updateTable('jobs')
      .set(
        retry
          ? {
              status: 'queued',
              run_at: new Date(now.getTime() + backoffMs).toISOString(),
              error,
              lease_owner: null,
              lease_expires_at: null,
            }
          : { status: 'failed', finished_at: now.toISOString(), error, lease_expires_at: null },
      )
      .where('id', '=', id)
      .where('lease_owner', '=', owner)
      .execute();
    return true;
  }

  async get(id: string): Promise<Job | undefined> {
    const r = await this.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toJob(r);
  }

  async list(filter: { status?: string; kind?: string; limit?: number } = {}): Promise<Job[]> {
    let q = this.db.selectFrom('jobs').selectAll();
    if (filter.status) q = q.where('status', '=', filter.status);
    if (filter.kind) q = q.where('kind', '=', filter.kind);
    return (
      await q
        .orderBy('created_at', 'desc')
        .limit(filter.limit ?? 100)
        .execute()
    ).map(toJob);
  }
}
