import Database from 'better-sqlite3';
import type { Entity } from '@palisade/integrity';

/** A change reported to the manager and not yet accepted by an operator (`integrity.accept`). */
export interface PendingChange {
  eventId: string;
  kind: Entity['kind'];
  key: string;
  change: string;
  rule: string;
  severity: string;
  at: string;
}

/** Pending changes kept at most; the oldest go first (the events themselves are at the manager). */
export const MAX_PENDING = 10_000;

export interface BaselineMeta {
  createdAt: string;
  root: string;
  rulesSha256: string;
  entities: number;
}

/**
 * The baseline on the host: one SQLite file, one row per entity. Saving replaces the whole
 * baseline in one transaction, so a crash mid-save leaves the previous baseline intact.
 */
export class BaselineStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS entities (
        kind TEXT NOT NULL, key TEXT NOT NULL, rule TEXT NOT NULL, attrs TEXT NOT NULL,
        PRIMARY KEY (kind, key)
      ) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS pending (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, kind TEXT NOT NULL, key TEXT NOT NULL,
        change TEXT NOT NULL, rule TEXT NOT NULL, severity TEXT NOT NULL, at TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS pending_event ON pending (event_id);
      CREATE INDEX IF NOT EXISTS pending_entity ON pending (kind, key);
    `);
  }

  save(entities: readonly Entity[], meta: BaselineMeta): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO entities (kind, key, rule, attrs) VALUES (?, ?, ?, ?)');
    const setMeta = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      this.db.exec('DELETE FROM entities');
      for (const e of entities) insert.run(e.kind, e.key, e.rule, JSON.stringify(e.attrs));
      for (const [k, v] of Object.entries(meta)) setMeta.run(k, String(v));
    })();
  }

  /**
   * Applies part of a scan (what a real-time rescan found) without rewriting the whole baseline:
   * `remove` first, then `upsert`, in one transaction.
   */
  update(upsert: readonly Entity[], remove: readonly Pick<Entity, 'kind' | 'key'>[]): void {
    const insert = this.db.prepare('INSERT OR REPLACE INTO entities (kind, key, rule, attrs) VALUES (?, ?, ?, ?)');
    const del = this.db.prepare('DELETE FROM entities WHERE kind = ? AND key = ?');
    const count = this.db.prepare("INSERT OR REPLACE INTO meta (key, value) SELECT 'entities', COUNT(*) FROM entities");
    this.db.transaction(() => {
      for (const e of remove) del.run(e.kind, e.key);
      for (const e of upsert) insert.run(e.kind, e.key, e.rule, JSON.stringify(e.attrs));
      count.run();
    })();
  }

  meta(): BaselineMeta | undefined {
    const rows = this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[];
    if (rows.length === 0) return undefined;
    const m = Object.fromEntries(rows.map((r) => [r.key, r.value]));
    return { createdAt: m.createdAt ?? '', root: m.root ?? '/', rulesSha256: m.rulesSha256 ?? '', entities: Number(m.entities ?? 0) };
  }

  /** Extra facts kept with the baseline (build time, last full scan), as strings. */
  getMeta(key: string): string | undefined {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value;
  }

  setMeta(values: Record<string, string | number>): void {
    const set = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(values)) set.run(k, String(v));
    })();
  }

  addPending(rows: readonly PendingChange[]): void {
    if (rows.length === 0) return;
    const insert = this.db.prepare('INSERT INTO pending (event_id, kind, key, change, rule, severity, at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    this.db.transaction(() => {
      for (const r of rows) insert.run(r.eventId, r.kind, r.key, r.change, r.rule, r.severity, r.at);
      this.db.prepare('DELETE FROM pending WHERE seq <= (SELECT MAX(seq) FROM pending) - ?').run(MAX_PENDING);
    })();
  }

  pendingCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM pending').get() as { n: number }).n;
  }

  /** Pending changes, oldest first; with `eventIds`, only those events'. */
  listPending(eventIds?: readonly string[]): PendingChange[] {
    const cols = 'event_id AS eventId, kind, key, change, rule, severity, at';
    if (!eventIds) return this.db.prepare(`SELECT ${cols} FROM pending ORDER BY seq`).all() as PendingChange[];
    const q = this.db.prepare(`SELECT ${cols} FROM pending WHERE event_id = ? ORDER BY seq`);
    return eventIds.flatMap((id) => q.all(id) as PendingChange[]);
  }

  /** Removes every pending change of these entities (accepting an entity accepts all its changes); returns how many. */
  removePending(entities: readonly Pick<Entity, 'kind' | 'key'>[]): number {
    const del = this.db.prepare('DELETE FROM pending WHERE kind = ? AND key = ?');
    let n = 0;
    this.db.transaction(() => {
      for (const e of entities) n += del.run(e.kind, e.key).changes;
    })();
    return n;
  }

  clearPending(): number {
    return this.db.prepare('DELETE FROM pending').run().changes;
  }

  /**
   * The file entities at these paths (recursive: and under them), read from disk: real-time
   * rescans look up only what they cover instead of the module holding the whole baseline.
   * `key >= 'p/' AND key < 'p0'` is the primary-key range of every key starting with `p/`.
   */
  filesUnder(targets: readonly { path: string; recursive: boolean }[]): Entity[] {
    const exact = this.db.prepare("SELECT kind, key, rule, attrs FROM entities WHERE kind = 'file' AND key = ?").raw(true);
    const range = this.db.prepare("SELECT kind, key, rule, attrs FROM entities WHERE kind = 'file' AND key >= ? AND key < ?").raw(true);
    const byKey = new Map<string, Entity>();
    const add = (rows: unknown[]) => {
      for (const r of rows as [Entity['kind'], string, string, string][])
        byKey.set(r[1], { kind: r[0], key: r[1], rule: r[2], attrs: JSON.parse(r[3]) });
    };
    for (const t of targets) {
      add(exact.all(t.path));
      if (!t.recursive) continue;
      const prefix = t.path.endsWith('/') ? t.path : `${t.path}/`;
      add(range.all(prefix, `${prefix.slice(0, -1)}0`));
    }
    return [...byKey.values()];
  }

  /** Every entity, one row at a time (a summary pass without holding the baseline). */
  *iterate(): Generator<Entity> {
    const rows = this.db.prepare('SELECT kind, key, rule, attrs FROM entities').raw(true).iterate() as Iterable<
      [Entity['kind'], string, string, string]
    >;
    for (const r of rows) yield { kind: r[0], key: r[1], rule: r[2], attrs: JSON.parse(r[3]) };
  }

  count(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM entities').get() as { n: number }).n;
  }

  load(): Entity[] {
    // Raw rows (arrays) spare one object per row on loads of hundreds of thousands of entities.
    const rows = this.db.prepare('SELECT kind, key, rule, attrs FROM entities').raw(true).all() as [
      Entity['kind'],
      string,
      string,
      string,
    ][];
    const out: Entity[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      out[i] = { kind: r[0], key: r[1], rule: r[2], attrs: JSON.parse(r[3]) };
    }
    return out;
  }

  close(): void {
    this.db.close();
  }
}
