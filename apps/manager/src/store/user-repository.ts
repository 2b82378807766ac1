import type { ConsoleUser } from '@palisade/protocol';
import type { Kysely } from 'kysely';
import { hashPassword } from '../auth/password-hash.ts';
import type { Role } from './api-key-repository.ts';
import type { Clock } from './json-column.ts';
import { isUniqueViolation } from './policy-repository.ts';
import { newId } from './secrets.ts';
import { StoreError } from './store-error.ts';
import type { TenantTables } from './tenant-schema.ts';

/** The tables of migration 0006, kept here so the shared schema file stays untouched. */
// A type alias, not an interface: withTables() needs an index-signature-compatible type.
export type ConsoleUserTables = {
  console_users: {
    id: string;
    username: string;
    password_hash: string;
    role: string;
    disabled: number;
    created_at: string;
    updated_at: string;
    password_changed_at: string;
    last_login_at: string | null;
  };
  console_sessions: {
    id: string;
    user_id: string;
    secret_hash: string;
    created_at: string;
    last_seen_at: string;
    idle_expires_at: string;
    expires_at: string;
    ended_at: string | null;
    address: string;
  };
  console_login_failures: {
    key: string;
    failures: number;
    first_failure_at: string;
    locked_until: string | null;
  };
};

export type UserDb = Kysely<TenantTables & ConsoleUserTables>;
export const userDb = (db: Kysely<TenantTables>): UserDb => db.withTables<ConsoleUserTables>();

export type { ConsoleUser };

/** Usernames are compared case-insensitively: they are stored lower-cased. */
export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const normaliseUsername = (u: string): string => u.trim().toLowerCase();

type Row = ConsoleUserTables['console_users'];
const toUser = (r: Row): ConsoleUser => ({
  id: r.id,
  username: r.username,
  role: r.role as Role,
  disabled: Number(r.disabled) === 1,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  passwordChangedAt: r.password_changed_at,
  lastLoginAt: r.last_login_at,
});

/** Failed logins per username + client address within this window count towards a lockout. */
export const FAILURE_WINDOW_MS = 15 * 60_000;

export class UserRepository {
  private readonly db: UserDb;

  constructor(
    db: Kysely<TenantTables>,
    private readonly clock: Clock,
  ) {
    this.db = userDb(db);
  }

  async create(input: { username: string; password: string; role: Role }): Promise<ConsoleUser> {
    const username = normaliseUsername(input.username);
    if (!USERNAME_PATTERN.test(username)) {
      throw new StoreError('STORE_INVALID_REFERENCE', 'a username is 1-64 characters: letters, digits, . _ @ - (not first)', 'username');
    }
    const now = this.clock().toISOString();
    const row: Row = {
      id: newId(),
      username,
      password_hash: await hashPassword(input.password),
      role: input.role,
      disabled: 0,
      created_at: now,
      updated_at: now,
      password_changed_at: now,
      last_login_at: null,
    };
    try {
      await this.db.insertInto('console_users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw new StoreError('STORE_CONFLICT', `a user named ${JSON.stringify(username)} exists`, 'username');
      throw err;
    }
    return toUser(row);
  }

  async list(): Promise<ConsoleUser[]> {
    return (await this.db.selectFrom('console_users').selectAll().orderBy('username').execute()).map(toUser);
  }

  async get(id: string): Promise<ConsoleUser | undefined> {
    const r = await this.db.selectFrom('console_users').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toUser(r);
  }

  /** By id or by username (the CLI and the API accept either). */
  async find(ref: string): Promise<ConsoleUser | undefined> {
    return (await this.get(ref)) ?? (await this.credentials(ref))?.user;
  }

  /** The user and the stored password hash, for login only. */
  async credentials(username: string): Promise<{ user: ConsoleUser; passwordHash: string } | undefined> {
    const r = await this.db.selectFrom('console_users').selectAll().where('username', '=', normaliseUsername(username)).executeTakeFirst();
    return r && { user: toUser(r), passwordHash: r.password_hash };
  }

  /** Disabling or enabling, or a new role. The caller ends the user's sessions where that matters. */
  async update(id: string, patch: { disabled?: boolean; role?: Role }): Promise<ConsoleUser> {
    const set: Partial<Row> = { updated_at: this.clock().toISOString() };
    if (patch.disabled !== undefined) set.disabled = patch.disabled ? 1 : 0;
    if (patch.role !== undefined) set.role = patch.role;
    const res = await this.db.updateTable('console_users').set(set).where('id', '=', id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no user ${id}`);
    return (await this.get(id))!;
  }

  async setPassword(id: string, password: string): Promise<ConsoleUser> {
    const now = this.clock().toISOString();
    const res = await this.db
      .updateTable('console_users')
      .set({ password_hash: await hashPassword(password), password_changed_at: now, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new StoreError('STORE_NOT_FOUND', `no user ${id}`);
    return (await this.get(id))!;
  }

  /** Replaces a hash made with weaker parameters, only if it is still the one that was checked. */
  async rehash(id: string, oldHash: string, newHash: string): Promise<void> {
    await this.db
      .updateTable('console_users')
      .set({ password_hash: newHash })
      .where('id', '=', id)
      .where('password_hash', '=', oldHash)
      .execute();
  }

  async recordLogin(id: string): Promise<void> {
    await this.db.updateTable('console_users').set({ last_login_at: this.clock().toISOString() }).where('id', '=', id).execute();
  }

  /** Until when `key` is locked out, if it is now. */
  async lockedUntil(key: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('console_login_failures').select('locked_until').where('key', '=', key).executeTakeFirst();
    return r?.locked_until && r.locked_until > this.clock().toISOString() ? r.locked_until : undefined;
  }

  /**
   * Counts one failed login for `key`; at `limit` failures within the window the key is locked
   * for `lockMs` and the count starts again. Returns the lock's end when this failure set one.
   */
  async recordFailure(key: string, limit: number, lockMs: number): Promise<string | undefined> {
    const now = this.clock();
    const iso = now.toISOString();
    const windowStart = new Date(now.getTime() - FAILURE_WINDOW_MS).toISOString();
    return this.db.transaction().execute(async (trx) => {
      // Both dialects support this upsert; an old window (or an expired lock) starts a new count.
      await trx
        .insertInto('console_login_failures')
        .values({ key, failures: 1, first_failure_at: iso, locked_until: null })
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => ({
            failures: eb
              .case()
              .when('console_login_failures.first_failure_at', '<', windowStart)
              .then(1)
              .else(eb('console_login_failures.failures', '+', 1))
              .end(),
            first_failure_at: eb
              .case()
              .when('console_login_failures.first_failure_at', '<', windowStart)
              .then(iso)
              .else(eb.ref('console_login_failures.first_failure_at'))
              .end(),
          })),
        )
        .execute();
      const r = await trx.selectFrom('console_login_failures').selectAll().where('key', '=', key).executeTakeFirstOrThrow();
      if (Number(r.failures) < limit) return undefined;
      const until = new Date(now.getTime() + lockMs).toISOString();
      await trx
        .updateTable('console_login_failures')
        .set({ failures: 0, first_failure_at: iso, locked_until: until })
        .where('key', '=', key)
        .execute();
      return until;
    });
  }

  async clearFailures(key: string): Promise<void> {
    await this.db.deleteFrom('console_login_failures').where('key', '=', key).execute();
  }

  /** Forgets failure counts whose window and lock are both over (they can no longer lock anything). */
  async pruneFailures(): Promise<number> {
    const now = this.clock();
    const windowStart = new Date(now.getTime() - FAILURE_WINDOW_MS).toISOString();
    const res = await this.db
      .deleteFrom('console_login_failures')
      .where('first_failure_at', '<', windowStart)
      .where((eb) => eb.or([eb('locked_until', 'is', null), eb('locked_until', '<', now.toISOString())]))
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
