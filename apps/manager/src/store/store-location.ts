/**
 * Where the manager keeps its data. SQLite: one file for the tenant directory and one file per
 * tenant under `dataDir`. PostgreSQL: one schema for the directory and one schema per tenant in
 * one database, so several stateless manager nodes can share it.
 */
export type StoreLocation = { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; url: string; schemaPrefix: string };

export function parseStoreLocation(db: string | undefined, dataDir: string): StoreLocation {
  if (!db || db === 'sqlite') return { kind: 'sqlite', dataDir };
  if (db.startsWith('postgres://') || db.startsWith('postgresql://')) {
    const url = new URL(db);
    // A `schemaPrefix` query parameter lets several installations (or test runs) share a database.
    const schemaPrefix = url.searchParams.get('schemaPrefix') ?? 'palisade';
    url.searchParams.delete('schemaPrefix');
    if (!/^[a-z][a-z0-9_]{0,30}$/.test(schemaPrefix)) {
      throw new Error(`schemaPrefix must match [a-z][a-z0-9_]{0,30}, got ${JSON.stringify(schemaPrefix)}`);
    }
    return { kind: 'postgres', url: url.toString(), schemaPrefix };
  }
  throw new Error(`unsupported --db ${JSON.stringify(db)}: use "sqlite" or a postgres:// URL`);
}

export function describeStoreLocation(loc: StoreLocation): string {
  if (loc.kind === 'sqlite') return `sqlite:${loc.dataDir}`;
  const u = new URL(loc.url);
  u.password = u.password ? '***' : '';
  return `${u.toString()} (schemas ${loc.schemaPrefix}_*)`;
}
