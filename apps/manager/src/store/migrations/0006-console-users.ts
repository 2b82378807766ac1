import type { Kysely, Migration } from 'kysely';

/**
 * Console users of a tenant (username/password), their sessions and failed-login counters. The
 * counters live in the database, not in one process, so a lockout holds across the manager nodes
 * of one PostgreSQL; sessions likewise, so any node accepts a session another node opened.
 */
export const consoleUsersMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .createTable('console_users')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('username', 'text', (c) => c.notNull().unique())
      // `scrypt$N$r$p$salt$hash` (base64url): the parameters travel with each hash, so they can be raised later.
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('role', 'text', (c) => c.notNull())
      .addColumn('disabled', 'integer', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addColumn('password_changed_at', 'text', (c) => c.notNull())
      .addColumn('last_login_at', 'text')
      .execute();
    await db.schema
      .createTable('console_sessions')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('user_id', 'text', (c) => c.notNull())
      // SHA-256 of the 256-bit token secret; the token itself is never stored.
      .addColumn('secret_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('idle_expires_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('ended_at', 'text')
      .addColumn('address', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('console_sessions_user').on('console_sessions').columns(['user_id']).execute();
    await db.schema
      .createTable('console_login_failures')
      // `<username>\n<address>`: throttling is per name and client, so one attacker cannot lock everyone out.
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('first_failure_at', 'text', (c) => c.notNull())
      .addColumn('locked_until', 'text')
      .execute();
  },
};
