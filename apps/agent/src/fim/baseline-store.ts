import Database from 'better-sqlite3';
import type { Entity } from '@palisade/integrity';

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
