/**
 * Coalesces lookups by key that arrive in the same turn of the event loop into one query: every
 * agent request starts with its credentials row, and a thousand agents a second asking for one
 * row each cost a thousand round trips through the connection pool; asked together they cost a
 * handful of `WHERE id IN (…)` queries. Nothing is remembered between turns, so a write is seen
 * by the next request at once (no staleness, nothing to invalidate).
 */
export class CoalescedLookup<K, V> {
  /** Waiters of the current turn; a non-empty map means a flush is scheduled. */
  private pending = new Map<K, { resolve(v: V | undefined): void; reject(e: unknown): void }[]>();

  constructor(
    /** Loads the rows of many keys at once; keys with no row are simply absent from the result. */
    private readonly loadMany: (keys: K[]) => Promise<Map<K, V>>,
    private readonly maxBatch = 500,
  ) {}

  load(key: K): Promise<V | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) setImmediate(() => this.flush());
      const waiting = this.pending.get(key);
      if (waiting) waiting.push({ resolve, reject });
      else this.pending.set(key, [{ resolve, reject }]);
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = new Map();
    const keys = [...batch.keys()];
    for (let i = 0; i < keys.length; i += this.maxBatch) {
      const slice = keys.slice(i, i + this.maxBatch);
      this.loadMany(slice).then(
        (found) => {
          for (const k of slice) for (const w of batch.get(k)!) w.resolve(found.get(k));
        },
        (err) => {
          for (const k of slice) for (const w of batch.get(k)!) w.reject(err);
        },
      );
    }
  }
}
