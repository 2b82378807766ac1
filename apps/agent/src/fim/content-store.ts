import { deflateRawSync, inflateRawSync } from 'node:zlib';
import Database from 'better-sqlite3';

export interface StoredContent {
  /** SHA-256 of the file bytes the copy was made from. */
  sha256: string;
  /** The redaction settings the copy was made under (`off`, or a key of the rule's patterns). */
  redactionKey: string;
  /** The prepared text: secrets already replaced by fingerprints, never the raw secret. */
  text: string;
}

export interface ContentStoreStats {
  files: number;
  /** Compressed bytes held. */
  bytes: number;
  maxBytes: number;
  /** Copies not kept because the store was full (since the store was opened). */
  refused: number;
}

/**
 * The last content of the files whose rules ask for text diffs (`reportChanges`), compressed,
 * in one SQLite file next to the baseline. Bounded: a copy that would push the total over
 * `maxBytes` is refused and the file's older copy dropped, so a later diff says
 * `no-previous-copy` instead of comparing with a stale version. Copies hold prepared text
 * (secrets fingerprinted), so the store is no second home for the host's passwords.
 */
export class ContentStore {
  private readonly db: Database.Database;
  private total: number;
  private refused = 0;

  constructor(
    file: string,
    readonly maxBytes: number,
  ) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS copies (
        path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, redaction TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL
      ) WITHOUT ROWID;
    `);
    this.total = (this.db.prepare('SELECT COALESCE(SUM(size), 0) AS n FROM copies').get() as { n: number }).n;
  }

  get(path: string): StoredContent | undefined {
    const row = this.db.prepare('SELECT sha256, redaction, data FROM copies WHERE path = ?').get(path) as
      | { sha256: string; redaction: string; data: Buffer }
      | undefined;
    if (!row) return undefined;
    return { sha256: row.sha256, redactionKey: row.redaction, text: inflateRawSync(row.data).toString('utf8') };
  }

  /** The hash and redaction key of a copy, without inflating it. */
  peek(path: string): { sha256: string; redactionKey: string } | undefined {
    const row = this.db.prepare('SELECT sha256, redaction FROM copies WHERE path = ?').get(path) as
      | { sha256: string; redaction: string }
      | undefined;
    return row ? { sha256: row.sha256, redactionKey: row.redaction } : undefined;
  }

  /** Keeps a copy; false (and the old copy dropped) when it does not fit in `maxBytes`. */
  put(path: string, content: StoredContent): boolean {
    const data = deflateRawSync(Buffer.from(content.text, 'utf8'));
    const old = this.db.prepare('SELECT size FROM copies WHERE path = ?').get(path) as { size: number } | undefined;
    const without = this.total - (old?.size ?? 0);
    if (without + data.length > this.maxBytes) {
      if (old) this.delete(path);
      this.refused++;
      return false;
    }
    this.db
      .prepare('INSERT OR REPLACE INTO copies (path, sha256, redaction, size, data) VALUES (?, ?, ?, ?, ?)')
      .run(path, content.sha256, content.redactionKey, data.length, data);
    this.total = without + data.length;
    return true;
  }

  delete(path: string): void {
    const old = this.db.prepare('SELECT size FROM copies WHERE path = ?').get(path) as { size: number } | undefined;
    if (!old) return;
    this.db.prepare('DELETE FROM copies WHERE path = ?').run(path);
    this.total -= old.size;
  }

  rename(from: string, to: string): void {
    if (from === to) return;
    this.delete(to);
    this.db.prepare('UPDATE copies SET path = ? WHERE path = ?').run(to, from);
  }

  paths(): string[] {
    return (this.db.prepare('SELECT path FROM copies').pluck().all() as string[]).sort();
  }

  stats(): ContentStoreStats {
    const files = (this.db.prepare('SELECT COUNT(*) AS n FROM copies').get() as { n: number }).n;
    return { files, bytes: this.total, maxBytes: this.maxBytes, refused: this.refused };
  }

  close(): void {
    this.db.close();
  }
}
