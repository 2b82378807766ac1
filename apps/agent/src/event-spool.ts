import Database from 'better-sqlite3';
import { type AgentEvent, SEVERITIES, type Severity } from '@palisade/protocol';
import { AgentError } from './agent-error.ts';

export interface SpoolCounters {
  /** Events stored and not yet acknowledged by the manager. */
  pending: number;
  pendingBytes: number;
  maxBytes: number;
  /** Events thrown away because the spool was full (persistent across restarts). */
  dropped: number;
  /** Events the manager refused as invalid (HTTP 400 for that single event). */
  rejected: number;
  /** Events the manager acknowledged since the spool was created. */
  acked: number;
}

export interface SpoolAddResult {
  stored: boolean;
  /** How many events (possibly the new one) were dropped to respect maxBytes. */
  dropped: number;
}

const SEVERITY_RANK: Record<Severity, number> = Object.fromEntries(SEVERITIES.map((s, i) => [s, i])) as Record<
  Severity,
  number
>;

/** Per-row cost counted on top of the JSON so that a flood of tiny events is bounded too. */
export const SPOOL_ROW_OVERHEAD = 64;
export const DEFAULT_SPOOL_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The on-disk queue between modules and the manager. Events are written here before any attempt
 * to send them and deleted only when the manager acknowledges their id, so a crash, restart or
 * manager outage loses nothing that fits in `maxBytes`.
 *
 * `maxBytes` bounds the stored event JSON plus SPOOL_ROW_OVERHEAD per event (not the SQLite file
 * size, which also holds free pages). When an event does not fit, the oldest events of the lowest
 * severity go first; if every stored event is more severe than the new one, the new one is the
 * one dropped. Either way the persistent `dropped` counter grows.
 */
export class EventSpool {
  private readonly db: Database.Database;
  private totalBytes = 0;
  private count = 0;
  private maxBytes: number;
  private readonly counterCache = { dropped: 0, rejected: 0, acked: 0 };
  private readonly listeners = new Set<() => void>();

  private readonly stmts: {
    insert: Database.Statement;
    dropCandidates: Database.Statement;
    deleteSeq: Database.Statement;
    deleteId: Database.Statement;
    peek: Database.Statement;
    setCounter: Database.Statement;
  };

  private constructor(db: Database.Database, maxBytes: number) {
    this.db = db;
    this.maxBytes = maxBytes;
    db.exec(`
      CREATE TABLE IF NOT EXISTS events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL UNIQUE,
        severity INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        body TEXT NOT NULL
      );
      CREATE INDEX IF NOT EXISTS events_drop_order ON events (severity, seq);
      CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    `);
    this.stmts = {
      insert: db.prepare('INSERT OR IGNORE INTO events (id, severity, bytes, body) VALUES (?, ?, ?, ?)'),
      dropCandidates: db.prepare('SELECT seq, severity, bytes FROM events ORDER BY severity, seq'),
      deleteSeq: db.prepare('DELETE FROM events WHERE seq = ?'),
      deleteId: db.prepare('DELETE FROM events WHERE id = ? RETURNING bytes'),
      peek: db.prepare('SELECT body FROM events ORDER BY seq LIMIT ?'),
      setCounter: db.prepare(
        'INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value',
      ),
    };
    const totals = db.prepare('SELECT count(*) AS n, coalesce(sum(bytes), 0) AS b FROM events').get() as {
      n: number;
      b: number;
    };
    this.count = totals.n;
    this.totalBytes = totals.b;
    for (const row of db.prepare('SELECT name, value FROM counters').all() as { name: string; value: number }[]) {
      if (row.name in this.counterCache) this.counterCache[row.name as keyof typeof this.counterCache] = row.value;
    }
  }

  static open(path: string, options: { maxBytes?: number } = {}): EventSpool {
    let db: Database.Database | undefined;
    try {
      db = new Database(path);
      // must precede the first table: lets a drained spool hand its pages back to the disk
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
      // the WAL file is truncated to this after each checkpoint instead of keeping its peak size
      db.pragma('journal_size_limit = 4194304');
      // NORMAL in WAL mode survives a process crash (what matters for an agent restart); only an
      // OS crash can lose the last transactions, and FULL would cost an fsync per event.
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
      const spool = new EventSpool(db, options.maxBytes ?? DEFAULT_SPOOL_MAX_BYTES);
      if (spool.totalBytes > spool.maxBytes) spool.setMaxBytes(spool.maxBytes);
      return spool;
    } catch (err) {
      db?.close();
      throw new AgentError('AGENT_SPOOL_OPEN_FAILED', `cannot open the event spool ${path}: ${(err as Error).message}`);
    }
  }

  /** Called (synchronously) after events were stored; the sender uses it to wake up. */
  onAdded(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  add(event: AgentEvent): SpoolAddResult {
    return this.addMany([event])[0];
  }

  /** Stores several events in one transaction (one WAL commit instead of one per event). */
  addMany(events: readonly AgentEvent[]): SpoolAddResult[] {
    const results = this.db.transaction((batch: readonly AgentEvent[]) => {
      const before = this.counterCache.dropped;
      const out = batch.map((e) => this.insertOne(e));
      if (this.counterCache.dropped !== before) this.stmts.setCounter.run('dropped', this.counterCache.dropped);
      return out;
    })(events);
    if (results.some((r) => r.stored)) for (const l of this.listeners) l();
    return results;
  }

  private insertOne(event: AgentEvent): SpoolAddResult {
    const body = JSON.stringify(event);
    const bytes = Buffer.byteLength(body) + SPOOL_ROW_OVERHEAD;
    const severity = SEVERITY_RANK[event.severity] ?? 0;
    if (bytes > this.maxBytes) {
      this.counterCache.dropped++;
      return { stored: false, dropped: 1 };
    }
    let dropped = 0;
    const need = this.totalBytes + bytes - this.maxBytes;
    if (need > 0) {
      const victims: { seq: number; bytes: number }[] = [];
      let freed = 0;
      for (const row of this.stmts.dropCandidates.iterate() as Iterable<{ seq: number; severity: number; bytes: number }>) {
        // a stored event more severe than the new one outranks it: drop the newcomer instead
        if (row.severity > severity) break;
        victims.push(row);
        freed += row.bytes;
        if (freed >= need) break;
      }
      if (freed < need) {
        this.counterCache.dropped++;
        return { stored: false, dropped: 1 };
      }
      for (const v of victims) {
        this.stmts.deleteSeq.run(v.seq);
        this.totalBytes -= v.bytes;
        this.count--;
      }
      dropped = victims.length;
      this.counterCache.dropped += dropped;
    }
    const info = this.stmts.insert.run(event.id, severity, bytes, body);
    if (info.changes === 0) return { stored: false, dropped }; // same id already pending
    this.totalBytes += bytes;
    this.count++;
    return { stored: true, dropped };
  }

  /** The oldest pending events, in the order they were stored. */
  peek(limit: number): AgentEvent[] {
    return (this.stmts.peek.all(limit) as { body: string }[]).map((r) => JSON.parse(r.body) as AgentEvent);
  }

  /** Deletes acknowledged events; ids that are not pending (already dropped or acked) are ignored. */
  ack(ids: readonly string[]): number {
    return this.remove(ids, 'acked');
  }

  /** Deletes events the manager will never accept, so one bad event cannot block the queue. */
  reject(ids: readonly string[]): number {
    return this.remove(ids, 'rejected');
  }

  private remove(ids: readonly string[], counter: 'acked' | 'rejected'): number {
    const removed = this.db.transaction((list: readonly string[]) => {
      let n = 0;
      for (const id of list) {
        const row = this.stmts.deleteId.get(id) as { bytes: number } | undefined;
        if (!row) continue;
        n++;
        this.totalBytes -= row.bytes;
        this.count--;
      }
      this.counterCache[counter] += n;
      if (n > 0) this.stmts.setCounter.run(counter, this.counterCache[counter]);
      return n;
    })(ids);
    if (removed > 0 && this.count === 0) this.compact();
    return removed;
  }

  /** Applies a new bound (from the policy); shrinking drops events by the same policy as add(). */
  setMaxBytes(maxBytes: number): number {
    this.maxBytes = maxBytes;
    if (this.totalBytes <= maxBytes) return 0;
    const dropped = this.db.transaction(() => {
      let n = 0;
      for (const row of this.stmts.dropCandidates.all() as { seq: number; bytes: number }[]) {
        if (this.totalBytes <= maxBytes) break;
        this.stmts.deleteSeq.run(row.seq);
        this.totalBytes -= row.bytes;
        this.count--;
        n++;
      }
      this.counterCache.dropped += n;
      this.stmts.setCounter.run('dropped', this.counterCache.dropped);
      return n;
    })();
    return dropped;
  }

  /** Returns free pages to the file system once a backlog has drained (cheap when there are none). */
  private compact(): void {
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    if (free > 256) this.db.pragma('incremental_vacuum');
  }

  counters(): SpoolCounters {
    return {
      pending: this.count,
      pendingBytes: this.totalBytes,
      maxBytes: this.maxBytes,
      dropped: this.counterCache.dropped,
      rejected: this.counterCache.rejected,
      acked: this.counterCache.acked,
    };
  }

  close(): void {
    this.listeners.clear();
    if (this.db.open) this.db.close();
  }
}
