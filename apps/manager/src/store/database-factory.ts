import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { StoreLocation } from './store-location.ts';
import { directoryMigrationsProvider, tenantMigrations } from './tenant-migrations.ts';
import type { DirectoryTables, TenantTables } from './tenant-schema.ts';

// COUNT(*) and other int8 results come back as strings by default; our counts fit in a double.
pg.types.setTypeParser(20, Number);

export type Dialect = 'sqlite' | 'postgres';

export interface OpenedDatabase<T> {
  db: Kysely<T>;
  dialect: Dialect;
  /** PostgreSQL schema holding the tables; undefined for SQLite. */
  schema?: string;
}

function openSqlite<T>(file: string): OpenedDatabase<T> {
  const sqlite = new Database(file);
  // WAL + NORMAL survives a killed process without losing committed rows (only an OS crash could
  // lose the last transactions), and lets readers run during ingest.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return { db: new Kysely<T>({ dialect: new SqliteDialect({ database: sqlite }) }), dialect: 'sqlite' };
}

async function openPostgresSchema<T>(url: string, schema: string, poolSize: number): Promise<OpenedDatabase<T>> {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
  } catch (err) {
    // Two nodes creating the same schema at once: the loser sees a unique violation; fine.
    if ((err as { code?: string }).code !== '23505') throw err;
  } finally {
    await admin.end();
  }
  // Schema names are plain identifiers (checked by the caller), so no quoting is needed here.
  const pool = new pg.Pool({ connectionString: url, max: poolSize, options: `-c search_path=${schema}` });
  return { db: new Kysely<T>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', schema };
}

async function migrate(opened: OpenedDatabase<any>, provider: typeof tenantMigrations): Promise<void> {
  const migrator = new Migrator({
    db: opened.db,
    provider,
    ...(opened.schema ? { migrationTableSchema: opened.schema } : {}),
  });
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return;
    const failed = results?.find((r) => r.status === 'Error');
    // Before it runs anything, Kysely's migrator lists every table of every schema to find its own
    // (introspection); on PostgreSQL that query fails with undefined_table when another session
    // creates or drops a table meanwhile (another tenant's migration, another manager node). No
    // migration has run then, so asking again is safe.
    if (!failed && (error as { code?: string }).code === '42P01' && attempt < 5) {
      await new Promise((r) => setTimeout(r, 50 * attempt));
      continue;
    }
    throw new Error(`migration ${failed?.migrationName ?? '?'} failed: ${(error as Error).message ?? error}`);
  }
}

export async function openDirectoryDatabase(loc: StoreLocation): Promise<OpenedDatabase<DirectoryTables>> {
  const opened =
    loc.kind === 'sqlite'
      ? (mkdirSync(loc.dataDir, { recursive: true }), openSqlite<DirectoryTables>(join(loc.dataDir, 'directory.sqlite')))
      : await openPostgresSchema<DirectoryTables>(loc.url, `${loc.schemaPrefix}_directory`, 2);
  await migrate(opened, directoryMigrationsProvider);
  return opened;
}

export async function openTenantDatabase(loc: StoreLocation, tenantId: string): Promise<OpenedDatabase<TenantTables>> {
  const opened =
    loc.kind === 'sqlite'
      ? (mkdirSync(join(loc.dataDir, 'tenants'), { recursive: true }),
        openSqlite<TenantTables>(join(loc.dataDir, 'tenants', `${tenantId}.sqlite`)))
      : await openPostgresSchema<TenantTables>(loc.url, tenantSchemaName(loc.schemaPrefix, tenantId), 8);
  await migrate(opened, tenantMigrations);
  return opened;
}

export function tenantSchemaName(prefix: string, tenantId: string): string {
  return `${prefix}_t_${tenantId.replace(/-/g, '_')}`;
}

/** Drops every schema of an installation (tests only; SQLite tests just delete the folder). */
export async function dropPostgresInstallation(url: string, prefix: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ nspname: string }>(`SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2`, [
      `${prefix}_directory`,
      `${prefix}\\_t\\_%`,
    ]);
    for (const r of rows) await client.query(`DROP SCHEMA "${r.nspname}" CASCADE`);
  } finally {
    await client.end();
  }
}
