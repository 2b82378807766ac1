/**
 * FNV's low bits depend only on the low bits of the characters, so keys made of digits and dots
 * (IP hosts) would pile into a few buckets; the murmur3 finalizer spreads them before masking.
 */
function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * An open-addressing hash table from host names to values, built for the domain walk of a
 * lookup. The hash is FNV-1a taken from the *end* of the string, so one right-to-left pass over
 * a host gives the hash of every parent suffix (`c`, `b.c`, `a.b.c`) without creating a
 * substring; a miss costs one probe of a typed array instead of a string-keyed Map lookup, which
 * is what keeps lookups in the sub-microsecond range on tables of millions of names.
 */
export class HostTable<V> {
  private keys: string[] = [];
  private values: V[] = [];
  /** Pairs of (hash, index + 1); 0 in the second slot marks an empty bucket. */
  private table: Int32Array;
  private mask: number;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.keys.length;
  }

  static hash(s: string): number {
    let h = 0x811c9dc5;
    for (let i = s.length - 1; i >= 0; i--) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return h;
  }

  /** The value stored under the suffix of `host` that starts at `start`, given that suffix's hash. */
  getSuffix(host: string, start: number, h: number): V | undefined {
    const t = this.table;
    const len = host.length - start;
    for (let i = mix(h) & this.mask; ; i = (i + 1) & this.mask) {
      const slot = t[i * 2 + 1]!;
      if (slot === 0) return undefined;
      if (t[i * 2] === h) {
        const k = this.keys[slot - 1]!;
        if (k.length === len && (start === 0 ? k === host : host.endsWith(k))) return this.values[slot - 1];
      }
    }
  }

  get(key: string): V | undefined {
    return this.getSuffix(key, 0, HostTable.hash(key));
  }

  /** Adds a key known to be absent, with its hash (from `hash`). */
  insert(key: string, h: number, v: V): void {
    if ((this.keys.length + 1) * 2 > this.mask + 1) this.grow();
    this.keys.push(key);
    this.values.push(v);
    this.place(h, this.keys.length);
  }

  private place(h: number, slot: number): void {
    const t = this.table;
    let i = mix(h) & this.mask;
    while (t[i * 2 + 1] !== 0) i = (i + 1) & this.mask;
    t[i * 2] = h;
    t[i * 2 + 1] = slot;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
    for (let k = 0; k < this.keys.length; k++) this.place(HostTable.hash(this.keys[k]!), k + 1);
  }
}
