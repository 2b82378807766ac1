import { type Kysely, type Migration, PostgresAdapter } from 'kysely';

/**
 * Signature sets and web-reputation feeds the manager hands to agents (ADR 0007): one row per
 * (kind, name), the bytes in the row itself so every manager node over one PostgreSQL serves the
 * same content. `bytea` on PostgreSQL, `blob` on SQLite: the only column type that differs.
 */
export const artifactsMigration: Migration = {
  async up(db: Kysely<any>) {
    const blob = db.getExecutor().adapter instanceof PostgresAdapter ? 'bytea' : 'blob';
    await db.schema
      .createTable('artifacts')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('kind', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('format', 'text', (c) => c.notNull())
      .addColumn('sha256', 'text', (c) => c.notNull())
      .addColumn('size', 'integer', (c) => c.notNull())
      .addColumn('version', 'integer', (c) => c.notNull())
      .addColumn('bytes', blob as 'blob', (c) => c.notNull())
      .addColumn('source', 'text', (c) => c.notNull())
      .addColumn('description', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      // when the content last changed
      .addColumn('updated_at', 'text', (c) => c.notNull())
      // when the content was last confirmed current (a download that found the same bytes)
      .addColumn('refreshed_at', 'text', (c) => c.notNull())
      .addColumn('last_error', 'text')
      .execute();
    await db.schema.createIndex('artifacts_kind_name').on('artifacts').columns(['kind', 'name']).unique().execute();
    await db.schema.createIndex('artifacts_sha256').on('artifacts').columns(['sha256']).execute();
  },
};
