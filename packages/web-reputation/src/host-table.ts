/**
 * FNV's low bits depend only on the low bits of the characters, so keys made of digits and dots
 * (IP hosts) would pile into a few buckets; the murmur3 finalizer spreads them before masking.
 */
export function mix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

const FNV_BASIS = 0x811c9dc5 | 0;

/** FNV-1a of `s[from, to)` read left to right, continuing from `h`. */
export function hashForward(s: string, from: number, to: number, h = FNV_BASIS): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
}

/** The hash of a key made of a host (hashed with `HostTable.hash`) and a path part (hashed with `hashForward`). */
export function combineHash(hostHash: number, pathHash: number): number {
  return hostHash ^ Math.imul(pathHash, 0x9e3779b1);
}

const LEN_BITS = 24;
const LEN_MASK = (1 << LEN_BITS) - 1;
/** Keys are normalized hosts and URLs (ASCII, far below 16 MiB); a longer one is a caller bug. */
export const MAX_KEY_LENGTH = LEN_MASK;

/**
 * An open-addressing hash table from ASCII keys to one int32 value, built so that a lookup touches
 * as little memory as possible: a bucket is four int32 in one typed array (hash, key offset, key
 * length with 8 flag bits, value), and the key's characters sit in one byte arena, so a miss is
 * one probe and a hit is one more read, with no string object, array of keys or value object in
 * between (each of those was a separate cache miss on tables of a million names).
 *
 * Host keys are hashed right to left (`hash`), so one right-to-left pass over a host gives the
 * hash of every parent suffix (`c`, `b.c`, `a.b.c`) without creating a substring.
 */
export class HostTable {
  private table: Int32Array;
  private mask: number;
  /**
   * One bit per 1/8 bucket, set for the hash of every key: a probe whose bit is clear is a miss
   * without touching the table. Most lookups are misses (unlisted names, parent labels), and
   * this filter is 16 times smaller than the table, so it mostly stays in cache while the
   * table's buckets would each cost a trip to memory.
   */
  private filter: Int32Array;
  private filterShift: number;
  private arena: Uint8Array;
  private used = 0;
  size = 0;

  constructor(expected = 16, averageKeyLength = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.table = new Int32Array(cap * 4);
    this.mask = cap - 1;
    this.filter = new Int32Array(cap / 4);
    this.filterShift = 32 - Math.log2(cap * 8);
    this.arena = new Uint8Array(Math.max(256, expected * averageKeyLength));
  }

  private mayHave(h: number): boolean {
    const b = Math.imul(h, 0x9e3779b1) >>> this.filterShift;
    return (this.filter[b >>> 5]! & (1 << (b & 31))) !== 0;
  }

  static hash(s: string): number {
    return HostTable.hashRange(s, 0, s.length);
  }

  /** `hash` of `s.slice(start, end)`. */
  static hashRange(s: string, start: number, end: number): number {
    let h = FNV_BASIS;
    for (let i = end - 1; i >= start; i--) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
    return h;
  }

  /** The bucket of the key `s.slice(start, end)` (whose hash is `h`), or -1. */
  findSuffix(s: string, start: number, end: number, h: number): number {
    const t = this.table;
    const a = this.arena;
    const len = end - start;
    if (!this.mayHave(h)) return -1;
    for (let i = mix(h) & this.mask; ; i = (i + 1) & this.mask) {
      const o = i << 2;
      const l = t[o + 2]!;
      if (l === 0) return -1;
      if (t[o] === h && (l & LEN_MASK) === len) {
        let off = t[o + 1]!;
        let j = start;
        while (j < end && a[off] === s.charCodeAt(j)) {
          j++;
          off++;
        }
        if (j === end) return o;
      }
    }
  }

  /** The flags `findHost` collected. */
  foundFlags = 0;

  /**
   * `findSuffix` for the whole host of a request, which also wants the flags (whether the host
   * has URL entries): a bucket holding flags and no value is taken on its hash and length alone,
   * without reading its key. A false match only costs a probe of the URL tables, which compare
   * the host's characters themselves; the search goes on for a bucket with a value, which is
   * compared in full. The flags end up in `foundFlags`; the bucket with a value is returned.
   */
  findHost(s: string, start: number, end: number, h: number): number {
    this.foundFlags = 0;
    const t = this.table;
    const a = this.arena;
    const len = end - start;
    if (!this.mayHave(h)) return -1;
    for (let i = mix(h) & this.mask; ; i = (i + 1) & this.mask) {
      const o = i << 2;
      const l = t[o + 2]!;
      if (l === 0) return -1;
      if (t[o] === h && (l & LEN_MASK) === len) {
        if (t[o + 3] === 0) {
          this.foundFlags |= l >>> LEN_BITS;
          continue;
        }
        let off = t[o + 1]!;
        let j = start;
        while (j < end && a[off] === s.charCodeAt(j)) {
          j++;
          off++;
        }
        if (j === end) {
          this.foundFlags |= l >>> LEN_BITS;
          return o;
        }
      }
    }
  }

  /**
   * The bucket of the key `s.slice(aStart, aEnd) + s.slice(bStart, bEnd)`, or -1: a URL key
   * (host, then path and query) found in the URL it came with, without building it.
   */
  findJoined(s: string, aStart: number, aEnd: number, bStart: number, bEnd: number, h: number): number {
    const t = this.table;
    const ar = this.arena;
    const len = aEnd - aStart + bEnd - bStart;
    if (!this.mayHave(h)) return -1;
    for (let i = mix(h) & this.mask; ; i = (i + 1) & this.mask) {
      const o = i << 2;
      const l = t[o + 2]!;
      if (l === 0) return -1;
      if (t[o] === h && (l & LEN_MASK) === len) {
        let off = t[o + 1]!;
        let ok = true;
        for (let j = aStart; ok && j < aEnd; j++) ok = ar[off++] === s.charCodeAt(j);
        for (let j = bStart; ok && j < bEnd; j++) ok = ar[off++] === s.charCodeAt(j);
        if (ok) return o;
      }
    }
  }

  /** Gives back the arena space reserved beyond the keys (after a build; adding more still works). */
  trim(): void {
    if (this.arena.length > this.used + 256) this.arena = this.arena.slice(0, this.used + 256);
  }

  /** Bytes held in typed arrays. */
  get bytes(): number {
    return this.table.byteLength + this.filter.byteLength + this.arena.byteLength;
  }

  get(key: string): number | undefined {
    const o = this.findSuffix(key, 0, key.length, HostTable.hash(key));
    return o < 0 ? undefined : this.table[o + 3];
  }

  value(bucket: number): number {
    return this.table[bucket + 3]!;
  }

  setValue(bucket: number, v: number): void {
    this.table[bucket + 3] = v;
  }

  flags(bucket: number): number {
    return this.table[bucket + 2]! >>> LEN_BITS;
  }

  addFlags(bucket: number, f: number): void {
    this.table[bucket + 2]! |= f << LEN_BITS;
  }

  /** The bucket of `key` (hash `h`), created with value 0 when absent. Keys must be ASCII. */
  intern(key: string, h: number): number {
    return this.internJoined(key, 0, key.length, key.length, key.length, h);
  }

  /** `intern` of the key `s.slice(aStart, aEnd) + s.slice(bStart, bEnd)`, without building it. */
  internJoined(s: string, aStart: number, aEnd: number, bStart: number, bEnd: number, h: number): number {
    const found = this.findJoined(s, aStart, aEnd, bStart, bEnd, h);
    if (found >= 0) return found;
    const len = aEnd - aStart + bEnd - bStart;
    if (len === 0 || len > MAX_KEY_LENGTH) throw new RangeError(`index key of length ${len}`);
    if ((this.size + 1) * 2 > this.mask + 1) this.grow();
    if (this.used + len > this.arena.length) {
      const bigger = new Uint8Array(Math.max(this.arena.length * 2, this.used + len));
      bigger.set(this.arena.subarray(0, this.used));
      this.arena = bigger;
    }
    const off = this.used;
    const ar = this.arena;
    let o = off;
    let bad = 0;
    for (let j = aStart; j < aEnd; j++) {
      const c = s.charCodeAt(j);
      bad |= c;
      ar[o++] = c;
    }
    for (let j = bStart; j < bEnd; j++) {
      const c = s.charCodeAt(j);
      bad |= c;
      ar[o++] = c;
    }
    // Normalized hosts and URLs are ASCII (IDN is punycode, paths are percent-encoded).
    if (bad > 127) throw new RangeError(`index key is not ASCII: ${(s.slice(aStart, aEnd) + s.slice(bStart, bEnd)).slice(0, 80)}`);
    this.used += len;
    this.size++;
    return this.place(h, off, len, 0);
  }

  private place(h: number, off: number, lenAndFlags: number, v: number): number {
    const t = this.table;
    let i = mix(h) & this.mask;
    while (t[(i << 2) + 2] !== 0) i = (i + 1) & this.mask;
    const o = i << 2;
    t[o] = h;
    t[o + 1] = off;
    t[o + 2] = lenAndFlags;
    t[o + 3] = v;
    const b = Math.imul(h, 0x9e3779b1) >>> this.filterShift;
    this.filter[b >>> 5]! |= 1 << (b & 31);
    return o;
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    this.table = new Int32Array(cap * 4);
    this.mask = cap - 1;
    this.filter = new Int32Array(cap / 4);
    this.filterShift = 32 - Math.log2(cap * 8);
    for (let o = 0; o < old.length; o += 4) if (old[o + 2] !== 0) this.place(old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!);
  }
}

/**
 * Open-addressing map from int32 keys to a non-zero int32 value (0 marks an empty bucket): the
 * network part of an IPv4 address for one prefix length, probed without a Map or a boxed number.
 */
export class IntTable {
  private table: Int32Array;
  private mask: number;
  size = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
  }

  get bytes(): number {
    return this.table.byteLength;
  }

  get(key: number): number {
    const t = this.table;
    for (let i = mix(key) & this.mask; ; i = (i + 1) & this.mask) {
      const v = t[i * 2 + 1]!;
      if (v === 0 || t[i * 2] === key) return v;
    }
  }

  set(key: number, v: number): void {
    if (v === 0) throw new RangeError('IntTable values are non-zero');
    const t = this.table;
    for (let i = mix(key) & this.mask; ; i = (i + 1) & this.mask) {
      if (t[i * 2 + 1] === 0) {
        if ((this.size + 1) * 2 > this.mask + 1) {
          this.grow();
          this.set(key, v);
          return;
        }
        t[i * 2] = key;
        t[i * 2 + 1] = v;
        this.size++;
        return;
      }
      if (t[i * 2] === key) {
        t[i * 2 + 1] = v;
        return;
      }
    }
  }

  private grow(): void {
    const old = this.table;
    const cap = (this.mask + 1) * 2;
    this.table = new Int32Array(cap * 2);
    this.mask = cap - 1;
    this.size = 0;
    for (let i = 0; i < old.length; i += 2) if (old[i + 1] !== 0) this.set(old[i]!, old[i + 1]!);
  }
}
