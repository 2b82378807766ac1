import type { BytePattern } from './byte-pattern.ts';

/**
 * The multi-pattern byte filter that makes scan cost independent of the signature count.
 *
 * Every pattern contributes one key: up to 4 bytes of its literal anchor. Scanning keeps the
 * last 4 bytes in a rolling 32-bit register and, per byte, tests one bit in a hashed bitmap
 * (a 4-byte-deep automaton flattened into a table: each state is the last four bytes, so there
 * are no failure links to follow). Only on a hit is the exact key looked up and the pattern
 * verified around it. ClamAV's Aho–Corasick trie is depth-limited to 2–3 bytes for the same
 * reason: the trie stays small and the tail is verified by comparison.
 */
export class AnchorIndex {
  /** Keys per window length 1..4 -> pattern entries. */
  private readonly byLen: Map<number, number[]>[] = [new Map(), new Map(), new Map(), new Map()];
  private patterns: BytePattern[] = [];
  private ids: number[] = [];
  private keyOffsets: number[] = [];
  private unanchored: number[] = [];
  private bits4: Int32Array = new Int32Array(1);
  private shift4 = 32;
  private short: (Uint8Array | undefined)[] = [undefined, undefined, undefined];
  private built = false;

  get size(): number {
    return this.patterns.length;
  }

  /** Registers `pattern`; candidates are reported with `id`. */
  add(pattern: BytePattern, id: number): void {
    const entry = this.patterns.length;
    this.patterns.push(pattern);
    this.ids.push(id);
    const a = pattern.anchor;
    if (!a) {
      this.keyOffsets.push(0);
      this.unanchored.push(entry);
      return;
    }
    const len = Math.min(4, a.bytes.length - a.keyOffset);
    this.keyOffsets.push(a.keyOffset);
    const window = a.bytes.subarray(a.keyOffset, a.keyOffset + len);
    for (const k of keyVariants(window, a.fold)) {
      // Keys are kept as int32: as uint32 half of them would be heap numbers, and every
      // lookup would allocate.
      const key = k | 0;
      const m = this.byLen[len - 1]!;
      const list = m.get(key);
      if (list) list.push(entry);
      else m.set(key, [entry]);
    }
    this.built = false;
  }

  private build(): void {
    const keys4 = this.byLen[3]!;
    // ~64 bits per key keeps false hits near 1.5% while the bitmap stays within a few MB.
    let bitsLog = 16;
    while (bitsLog < 25 && 1 << bitsLog < keys4.size * 64) bitsLog++;
    this.shift4 = 32 - bitsLog;
    this.bits4 = new Int32Array((1 << bitsLog) >>> 5);
    for (const key of keys4.keys()) {
      const h = Math.imul(key, 0x9e3779b1) >>> this.shift4;
      this.bits4[h >>> 5]! |= 1 << (h & 31);
    }
    for (let l = 1; l <= 3; l++) {
      const m = this.byLen[l - 1]!;
      if (m.size === 0) {
        this.short[l - 1] = undefined;
        continue;
      }
      const t = new Uint8Array(1 << (8 * l));
      for (const key of m.keys()) t[key] = 1;
      this.short[l - 1] = t;
    }
    this.built = true;
  }

  /**
   * Calls `onCandidate(id, pattern, anchorPos)` for every position where a pattern's anchor
   * key occurs (anchorPos = where the whole literal anchor would start).
   */
  scan(buf: Uint8Array, onCandidate: (id: number, pattern: BytePattern, anchorPos: number) => void): void {
    if (!this.built) this.build();
    const n = buf.length;
    const bits = this.bits4;
    const shift = this.shift4;
    const m4 = this.byLen[3]!;
    const hasShort = this.short.some((t) => t !== undefined);
    const report = (list: number[], end: number, len: number): void => {
      for (const e of list) onCandidate(this.ids[e]!, this.patterns[e]!, end - len + 1 - this.keyOffsets[e]!);
    };
    if (m4.size > 0 && !hasShort) {
      let v = 0;
      for (let i = 0; i < n; i++) {
        v = (v << 8) | buf[i]!;
        const h = Math.imul(v, 0x9e3779b1) >>> shift;
        if ((bits[h >>> 5]! & (1 << (h & 31))) !== 0 && i >= 3) {
          const list = m4.get(v);
          if (list) report(list, i, 4);
        }
      }
    } else if (m4.size > 0 || hasShort) {
      const [t1, t2, t3] = this.short;
      const m1 = this.byLen[0]!;
      const m2 = this.byLen[1]!;
      const m3 = this.byLen[2]!;
      let v = 0;
      for (let i = 0; i < n; i++) {
        v = (v << 8) | buf[i]!;
        if (t1 && t1[v & 0xff]) report(m1.get(v & 0xff)!, i, 1);
        if (t2 && i >= 1 && t2[v & 0xffff]) report(m2.get(v & 0xffff)!, i, 2);
        if (t3 && i >= 2 && t3[v & 0xffffff]) report(m3.get(v & 0xffffff)!, i, 3);
        if (i >= 3) {
          const h = Math.imul(v, 0x9e3779b1) >>> shift;
          if ((bits[h >>> 5]! & (1 << (h & 31))) !== 0) {
            const list = m4.get(v);
            if (list) report(list, i, 4);
          }
        }
      }
    }
    for (const e of this.unanchored) {
      const p = this.patterns[e]!;
      for (let i = 0; i + p.minLength <= n; i++) onCandidate(this.ids[e]!, p, i);
    }
  }
}

/** Big-endian keys of the window; with `fold`, every upper/lower-case spelling of it. */
function keyVariants(window: Uint8Array, fold: boolean): number[] {
  let keys = [0];
  for (const b of window) {
    const alts = fold && b >= 97 && b <= 122 ? [b, b - 32] : [b];
    const next: number[] = [];
    for (const k of keys) for (const a of alts) next.push(((k << 8) | a) >>> 0);
    keys = next;
  }
  return keys;
}
