import type { Kysely } from 'kysely';
import type { Clock } from './json-column.ts';
import { formatCredential, hashSecret, newId, newSecret } from './secrets.ts';
import type { TenantTables } from './tenant-schema.ts';
import { type ConsoleUser, type ConsoleUserTables, type UserDb, userDb } from './user-repository.ts';

export interface ConsoleSession {
  id: string;
  userId: string;
  createdAt: string;
  lastSeenAt: string;
  idleExpiresAt: string;
  expiresAt: string;
  endedAt: string | null;
  address: string;
}

export interface SessionLifetimes {
  /** A session unused this long ends. */
  idleMs: number;
  /** A session ends this long after login, however busy. */
  absoluteMs: number;
}

export const DEFAULT_SESSION_LIFETIMES: SessionLifetimes = { idleMs: 30 * 60_000, absoluteMs: 12 * 3600_000 };
/** Sliding the idle expiry writes to the database; once a minute per session is enough. */
const TOUCH_EVERY_MS = 60_000;

type Row = ConsoleUserTables['console_sessions'];
const toSession = (r: Row): ConsoleSession => ({
  id: r.id,
  userId: r.user_id,
  createdAt: r.created_at,
  lastSeenAt: r.last_seen_at,
  idleExpiresAt: r.idle_expires_at,
  expiresAt: r.expires_at,
  endedAt: r.ended_at,
  address: r.address,
});

const iso = (ms: number) => new Date(ms).toISOString();

export class SessionRepository {
  private readonly db: UserDb;

  constructor(
    db: Kysely<TenantTables>,
    private readonly tenantId: string,
    private readonly clock: Clock,
    private readonly lifetimes: SessionLifetimes = DEFAULT_SESSION_LIFETIMES,
  ) {
    this.db = userDb(db);
  }

  /** Returns the token once (`pss_<tenant>.<id>.<secret>`); only the secret's hash is kept. */
  async create(userId: string, address: string): Promise<{ session: ConsoleSession; token: string }> {
    const now = this.clock().getTime();
    const id = newId();
    const secret = newSecret();
    const row: Row = {
      id,
      user_id: userId,
      secret_hash: hashSecret(secret),
      created_at: iso(now),
      last_seen_at: iso(now),
      idle_expires_at: iso(Math.min(now + this.lifetimes.idleMs, now + this.lifetimes.absoluteMs)),
      expires_at: iso(now + this.lifetimes.absoluteMs),
      ended_at: null,
      address,
    };
    await this.db.insertInto('console_sessions').values(row).execute();
    return { session: toSession(row), token: formatCredential('pss', this.tenantId, id, secret) };
  }

  /** The session with its user and the stored hash, for authentication only. */
  async secretHash(id: string): Promise<{ session: ConsoleSession; user: ConsoleUser; hash: string } | undefined> {
    const r = await this.db
      .selectFrom('console_sessions as s')
      .innerJoin('console_users as u', 'u.id', 's.user_id')
      .selectAll('s')
      .select(['u.username', 'u.role', 'u.disabled', 'u.created_at as u_created_at', 'u.updated_at as u_updated_at'])
      .select(['u.password_changed_at', 'u.last_login_at'])
      .where('s.id', '=', id)
      .executeTakeFirst();
    if (!r) return undefined;
    const user: ConsoleUser = {
      id: r.user_id,
      username: r.username,
      role: r.role as ConsoleUser['role'],
      disabled: Number(r.disabled) === 1,
      createdAt: r.u_created_at,
      updatedAt: r.u_updated_at,
      passwordChangedAt: r.password_changed_at,
      lastLoginAt: r.last_login_at,
    };
    return { session: toSession(r), user, hash: r.secret_hash };
  }

  /** Why a session is no longer valid now, or undefined when it is. */
  state(s: ConsoleSession): 'ended' | 'expired' | 'idle' | undefined {
    const now = this.clock().toISOString();
    if (s.endedAt) return 'ended';
    if (s.expiresAt <= now) return 'expired';
    if (s.idleExpiresAt <= now) return 'idle';
    return undefined;
  }

  /** Slides the idle expiry (never past the absolute one), at most once a minute. */
  async touch(s: ConsoleSession): Promise<void> {
    const now = this.clock().getTime();
    if (now - Date.parse(s.lastSeenAt) < TOUCH_EVERY_MS) return;
    await this.db
      .updateTable('console_sessions')
      .set({ last_seen_at: iso(now), idle_expires_at: iso(Math.min(now + this.lifetimes.idleMs, Date.parse(s.expiresAt))) })
      .where('id', '=', s.id)
      .where('ended_at', 'is', null)
      .execute();
  }

  async end(id: string): Promise<boolean> {
    const res = await this.db
      .updateTable('console_sessions')
      .set({ ended_at: this.clock().toISOString() })
      .where('id', '=', id)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** Ends every open session of a user (disabled, new password). Returns how many. */
  async endAllOf(userId: string): Promise<number> {
    const res = await this.db
      .updateTable('console_sessions')
      .set({ ended_at: this.clock().toISOString() })
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }

  /** Open sessions of a user, newest first. */
  async listOf(userId: string): Promise<ConsoleSession[]> {
    const rows = await this.db
      .selectFrom('console_sessions')
      .selectAll()
      .where('user_id', '=', userId)
      .where('ended_at', 'is', null)
      .where('expires_at', '>', this.clock().toISOString())
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toSession).filter((s) => !this.state(s));
  }

  /** Deletes sessions that ended or expired more than a day ago (they are kept a day for the record). */
  async prune(): Promise<number> {
    const cutoff = iso(this.clock().getTime() - 86400_000);
    const res = await this.db
      .deleteFrom('console_sessions')
      .where((eb) => eb.or([eb('ended_at', '<', cutoff), eb('expires_at', '<', cutoff), eb('idle_expires_at', '<', cutoff)]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
