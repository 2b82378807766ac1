import type { EntryKind, FeedEntry, ListKind } from './feed-entry.ts';
import { combineHash, HostTable, hashForward, IntTable } from './host-table.ts';
import { ipv4ToNumber, ipv6ToBigInt, normalizeTarget, type ScannedUrl, type Target } from './normalize-target.ts';
import { RISK_RANK, type Risk } from './risk-level.ts';

/** Where an entry came from; shared by every entry of a feed with the same risk and category. */
export interface EntrySource {
  feed: string;
  list: ListKind;
  risk: Risk;
  category: string;
}

/** One match, as `matches` reports it (the hot path never builds these). */
export interface IndexRecord {
  src: EntrySource;
  kind: EntryKind;
  /** Specificity rank of the kind, for tie-breaking. */
  spec: number;
  /** 0 = any port. */
  port: number;
}

const KINDS: readonly EntryKind[] = ['url', 'prefix', 'domain', 'host', 'cidr', 'keyword'];
const KIND_CODE: Readonly<Record<EntryKind, number>> = { url: 0, prefix: 1, domain: 2, host: 3, cidr: 4, keyword: 5 };
const DOMAIN = 2;
/** Specificity for ties between records of the same risk: the narrower entry explains the verdict better. */
const SPEC_OF_CODE = [6, 5, 3, 4, 2, 1];

/** Host-table flags: the host has exact-URL or URL-prefix entries, so the URL tables are worth a probe. */
const HAS_URLS = 1;
const HAS_PREFIXES = 2;

/**
 * Records are int32 "payloads", never objects: the payload of a key is 0 (none), a positive packed
 * record `(source + 1) << 19 | kind << 16 | port` (one record, source < 4095: the common case,
 * read from the very bucket that matched), or `-(list + 1)` for a list of (source, kind << 16 |
 * port) pairs when a key has several records.
 */
const SRC_SHIFT = 19;
const MAX_PACKED_SRC = 4094;

/**
 * The lookup structure. Names live in a host table hashed right to left, so one pass over the
 * host of a request gives the hash of every parent suffix; domains are found by walking up the
 * labels (`a.b.evil.example` -> `b.evil.example` -> `evil.example`) between the longest and the
 * shortest listed domain; a public suffix never sits in the table as a `domain` (the feed parser
 * turns it into a host-only entry), so the walk cannot let one listed tenant of `github.io` block
 * every other. Exact URLs and URL prefixes are keyed by host + path (+ query) in their own tables,
 * probed only when the host's bucket says it has some. IPv4 networks sit in one int table per
 * prefix length, keyed by the network bits.
 */
export class ReputationIndex {
  private readonly hosts: HostTable;
  private readonly urls: HostTable;
  private readonly prefixes: HostTable;
  /** Scratch space for the suffix starts and hashes of the host being looked up. */
  private starts = new Int32Array(64);
  private hashes = new Int32Array(64);
  private prefixEnds = new Int32Array(64);
  private prefixHashes = new Int32Array(64);
  /** Fewest and most labels of any listed domain: the parent walk stays between them. */
  private minLabels = Number.POSITIVE_INFINITY;
  private maxLabels = 0;
  private readonly v4 = new Map<number, IntTable>();
  private v4Lengths: number[] = [];
  private v4Tables: IntTable[] = [];
  private readonly v6 = new Map<number, Map<string, number>>();
  private v6Lengths: number[] = [];
  private readonly keywords: { text: string; src: number; kp: number }[] = [];
  private readonly lists: number[][] = [];
  private readonly sources: EntrySource[] = [];
  private readonly sourceIds = new Map<EntrySource, number>();
  private readonly sourceRank: number[] = [];
  private readonly sourceAllows: boolean[] = [];
  size = 0;

  /** Result of `select`: the winning allow and block sources, -1 when none. */
  allowSource = -1;
  blockSource = -1;
  private allowSpec = 0;
  private allowPort = 0;
  private blockSpec = 0;
  private blockPort = 0;
  private blockRank = 0;
  /** Set while `matches` collects every record instead of selecting. */
  private collect: IndexRecord[] | undefined;

  /**
   * `expected` sizes the tables up front (the store knows the entry counts) to avoid regrowth: a
   * number for all kinds alike, or per table.
   */
  constructor(expected: number | { hosts: number; urls: number; prefixes: number } = 16) {
    const e = typeof expected === 'number' ? { hosts: expected, urls: 16, prefixes: 16 } : expected;
    this.hosts = new HostTable(e.hosts, 16);
    this.urls = new HostTable(e.urls, 48);
    this.prefixes = new HostTable(e.prefixes, 32);
  }

  /** Gives back space reserved for growth; called once the feeds are all added. */
  trim(): void {
    this.hosts.trim();
    this.urls.trim();
    this.prefixes.trim();
  }

  /** Bytes held in the index's typed arrays (outside the JavaScript heap). */
  get typedArrayBytes(): number {
    let n = this.hosts.bytes + this.urls.bytes + this.prefixes.bytes + this.starts.byteLength * 2 + this.prefixEnds.byteLength * 2;
    for (const t of this.v4Tables) n += t.bytes;
    return n;
  }

  source(id: number): EntrySource {
    return this.sources[id]!;
  }

  private sourceId(src: EntrySource): number {
    let id = this.sourceIds.get(src);
    if (id === undefined) {
      id = this.sources.length;
      this.sources.push(src);
      this.sourceIds.set(src, id);
      this.sourceRank.push(RISK_RANK[src.risk]);
      this.sourceAllows.push(src.list === 'allow');
    }
    return id;
  }

  /** The payload `cur` with one more record; the same record listed twice adds nothing. */
  private addRecord(cur: number, src: number, kind: number, port: number): number {
    const kp = (kind << 16) | port;
    if (cur === 0) {
      if (src <= MAX_PACKED_SRC) return ((src + 1) << SRC_SHIFT) | kp;
      this.lists.push([src, kp]);
      return -this.lists.length;
    }
    if (cur > 0) {
      const s0 = (cur >>> SRC_SHIFT) - 1;
      const kp0 = cur & 0x7ffff;
      if (s0 === src && kp0 === kp) return cur;
      this.lists.push([s0, kp0, src, kp]);
      return -this.lists.length;
    }
    const l = this.lists[-cur - 1]!;
    for (let i = 0; i < l.length; i += 2) if (l[i] === src && l[i + 1] === kp) return cur;
    l.push(src, kp);
    return cur;
  }

  add(entry: FeedEntry, srcObj: EntrySource): void {
    this.size++;
    const src = this.sourceId(srcObj);
    const kind = KIND_CODE[entry.kind];
    const port = entry.port & 0xffff;
    switch (entry.kind) {
      case 'url':
      case 'prefix': {
        // value is `host:port/path?query`; the host keys the host bucket (flagged), host + path
        // (+ query) keys the record, and the port is on the record.
        const v = entry.value;
        const slash = v.indexOf('/');
        const colon = v.lastIndexOf(':', slash);
        const hh = HostTable.hashRange(v, 0, colon);
        this.hosts.addFlags(this.hosts.internJoined(v, 0, colon, colon, colon, hh), entry.kind === 'url' ? HAS_URLS : HAS_PREFIXES);
        const table = entry.kind === 'url' ? this.urls : this.prefixes;
        const b = table.internJoined(v, 0, colon, slash, v.length, combineHash(hh, hashForward(v, slash, v.length)));
        table.setValue(b, this.addRecord(table.value(b), src, kind, port));
        break;
      }
      case 'domain':
      case 'host': {
        const host = entry.value;
        const b = this.hosts.intern(host, HostTable.hash(host));
        this.hosts.setValue(b, this.addRecord(this.hosts.value(b), src, kind, port));
        if (entry.kind === 'domain') {
          let labels = 1;
          for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 46) labels++;
          if (labels < this.minLabels) this.minLabels = labels;
          if (labels > this.maxLabels) this.maxLabels = labels;
        }
        break;
      }
      case 'cidr': {
        const [ip, lenText] = entry.value.split('/');
        const len = Number(lenText);
        const n4 = ipv4ToNumber(ip!);
        if (n4 !== undefined) {
          let m = this.v4.get(len);
          if (!m) {
            this.v4.set(len, (m = new IntTable()));
            this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
            this.v4Tables = this.v4Lengths.map((l) => this.v4.get(l)!);
          }
          const key = len === 0 ? 0 : (n4 >>> (32 - len)) | 0;
          m.set(key, this.addRecord(m.get(key), src, kind, port));
        } else {
          let m = this.v6.get(len);
          if (!m) {
            this.v6.set(len, (m = new Map()));
            this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
          }
          const key = ipv6ToBigInt(ip!)!.toString(16);
          m.set(key, this.addRecord(m.get(key) ?? 0, src, kind, port));
        }
        break;
      }
      case 'keyword': {
        const kp = (kind << 16) | port;
        if (!this.keywords.some((k) => k.text === entry.value && k.src === src && k.kp === kp))
          this.keywords.push({ text: entry.value, src, kp });
        break;
      }
    }
  }

  /**
   * Picks the verdict's records: afterwards `allowSource` is the source of the most specific
   * allow match and `blockSource` that of the riskiest block match (then the most specific, then
   * the first found), -1 when none.
   */
  select(t: Target): void {
    this.allowSource = -1;
    this.blockSource = -1;
    this.collect = undefined;
    this.walkTarget(t);
  }

  /**
   * `select` for a URL as the fast scanner left it (`scanUrl`), read in place: the hot path, free
   * of allocation. The scan must have found a path, or no scheme (`/` is implied otherwise).
   */
  selectScanned(s: string, r: ScannedUrl): void {
    this.allowSource = -1;
    this.blockSource = -1;
    this.collect = undefined;
    this.walk(s, r.hostStart, r.hostEnd, r.pathStart, r.pathEnd, r.queryEnd, r.port, r.ipv4 >= 0 ? 1 : 0, r.ipv4, 0n);
  }

  /** Every record matching the target, allow and block alike (for tests and explanations). */
  matches(t: Target, out: IndexRecord[] = []): IndexRecord[] {
    this.allowSource = -1;
    this.blockSource = -1;
    this.collect = out;
    try {
      this.walkTarget(t);
    } finally {
      this.collect = undefined;
    }
    return out;
  }

  /** Convenience for tests and tools: normalize, then match. */
  lookup(input: string): IndexRecord[] {
    const t = normalizeTarget(input);
    return t ? this.matches(t) : [];
  }

  private hit(src: number, kind: number, port: number): void {
    if (this.collect !== undefined) this.collect.push({ src: this.sources[src]!, kind: KINDS[kind]!, spec: SPEC_OF_CODE[kind]!, port });
    const spec = SPEC_OF_CODE[kind]!;
    if (this.sourceAllows[src]) {
      if (this.allowSource < 0 || spec > this.allowSpec || (spec === this.allowSpec && port !== 0 && this.allowPort === 0)) {
        this.allowSource = src;
        this.allowSpec = spec;
        this.allowPort = port;
      }
      return;
    }
    const rank = this.sourceRank[src]!;
    if (
      this.blockSource < 0 ||
      rank > this.blockRank ||
      (rank === this.blockRank && (spec > this.blockSpec || (spec === this.blockSpec && port !== 0 && this.blockPort === 0)))
    ) {
      this.blockSource = src;
      this.blockRank = rank;
      this.blockSpec = spec;
      this.blockPort = port;
    }
  }

  /** Reports the records of a payload that apply to the port; `domainsOnly` is for parent labels. */
  private take(p: number, port: number, domainsOnly: boolean): void {
    if (p > 0) {
      const rp = p & 0xffff;
      const kind = (p >>> 16) & 7;
      if ((rp === 0 || rp === port) && (!domainsOnly || kind === DOMAIN)) this.hit((p >>> SRC_SHIFT) - 1, kind, rp);
    } else if (p < 0) {
      const l = this.lists[-p - 1]!;
      for (let i = 0; i < l.length; i += 2) {
        const kp = l[i + 1]!;
        const rp = kp & 0xffff;
        const kind = kp >>> 16;
        if ((rp === 0 || rp === port) && (!domainsOnly || kind === DOMAIN)) this.hit(l[i]!, kind, rp);
      }
    }
  }

  private walkTarget(t: Target): void {
    // One string holding host, path and query, as the scanner's offsets describe a URL.
    const s = t.host + t.path + t.query;
    const he = t.host.length;
    const pe = he + t.path.length;
    const kind = t.hostKind === 'domain' ? 0 : t.hostKind === 'ipv4' ? 1 : 2;
    this.walk(s, 0, he, he, pe, s.length, t.port, kind, t.ipv4 ?? 0, t.ipv6 ?? 0n);
  }

  /**
   * The matching walk over a URL given as offsets into `s`: host `[hs, he)`, path `[ps, pe)`
   * (empty: a bare host, no URL entries apply), query `[pe, qe)`. `hostKind`: 0 domain, 1 IPv4, 2 IPv6.
   */
  private walk(
    s: string,
    hs: number,
    he: number,
    ps: number,
    pe: number,
    qe: number,
    port: number,
    hostKind: number,
    ipv4: number,
    ipv6: bigint,
  ): void {
    if (this.hosts.size > 0) {
      // One right-to-left pass hashes every suffix that starts a label: starts[k] and hashes[k],
      // k + 1 labels, k = n - 1 being the whole host.
      if (he - hs + 1 > this.starts.length) {
        this.starts = new Int32Array((he - hs) * 2);
        this.hashes = new Int32Array((he - hs) * 2);
      }
      const starts = this.starts;
      const hashes = this.hashes;
      let n = 0;
      let h = 0x811c9dc5 | 0;
      for (let i = he - 1; i >= hs; i--) {
        const c = s.charCodeAt(i);
        if (c === 46) {
          starts[n] = i + 1;
          hashes[n++] = h;
        }
        h = Math.imul(h ^ c, 16777619);
      }
      starts[n] = hs;
      hashes[n++] = h;
      const b = this.hosts.findHost(s, hs, he, h);
      if (b >= 0) this.take(this.hosts.value(b), port, false);
      const f = this.hosts.foundFlags;
      if (f !== 0 && pe > ps) this.walkUrls(s, hs, he, ps, pe, qe, port, h, f);
      if (hostKind === 0) {
        // Parents, from the longest listed length down to the shortest.
        let k = n - 2;
        if (k > this.maxLabels - 1) k = this.maxLabels - 1;
        for (; k >= 0 && k + 1 >= this.minLabels; k--) {
          const pb = this.hosts.findSuffix(s, starts[k]!, he, hashes[k]!);
          if (pb >= 0) this.take(this.hosts.value(pb), port, true);
        }
      }
    }
    if (hostKind === 1) {
      const lengths = this.v4Lengths;
      for (let i = 0; i < lengths.length; i++) {
        const len = lengths[i]!;
        this.take(this.v4Tables[i]!.get(len === 0 ? 0 : (ipv4 >>> (32 - len)) | 0), port, false);
      }
    } else if (hostKind === 2) {
      for (const len of this.v6Lengths) {
        const shift = BigInt(128 - len);
        this.take(this.v6.get(len)!.get(((ipv6 >> shift) << shift).toString(16)) ?? 0, port, false);
      }
    }
    if (this.keywords.length) {
      const hay = (s.slice(hs, he) + s.slice(ps, qe)).toLowerCase();
      for (const k of this.keywords) if (hay.includes(k.text)) this.hit(k.src, k.kp >>> 16, 0);
    }
  }

  /** Exact URLs (with the query, then without: an entry without one matches whatever query is appended), then prefixes, longest first. */
  private walkUrls(
    s: string,
    hs: number,
    he: number,
    ps: number,
    pe: number,
    qe: number,
    port: number,
    hostHash: number,
    flags: number,
  ): void {
    if (flags & HAS_URLS) {
      const ph = hashForward(s, ps, pe);
      if (qe > pe) {
        const b = this.urls.findJoined(s, hs, he, ps, qe, combineHash(hostHash, hashForward(s, pe, qe, ph)));
        if (b >= 0) this.take(this.urls.value(b), port, false);
      }
      const b = this.urls.findJoined(s, hs, he, ps, pe, combineHash(hostHash, ph));
      if (b >= 0) this.take(this.urls.value(b), port, false);
    }
    if (flags & HAS_PREFIXES) {
      // Candidates: the whole path, and every leading part ending in `/`; hashed in one pass.
      if (pe - ps + 1 > this.prefixEnds.length) {
        this.prefixEnds = new Int32Array((pe - ps) * 2);
        this.prefixHashes = new Int32Array((pe - ps) * 2);
      }
      const ends = this.prefixEnds;
      const hashes = this.prefixHashes;
      let n = 0;
      let h = 0x811c9dc5 | 0;
      for (let i = ps; i < pe; i++) {
        const c = s.charCodeAt(i);
        h = Math.imul(h ^ c, 16777619);
        if (c === 47 && i < pe - 1) {
          ends[n] = i + 1;
          hashes[n++] = h;
        }
      }
      ends[n] = pe;
      hashes[n++] = h;
      for (let k = n - 1; k >= 0; k--) {
        const b = this.prefixes.findJoined(s, hs, he, ps, ends[k]!, combineHash(hostHash, hashes[k]!));
        if (b >= 0) this.take(this.prefixes.value(b), port, false);
      }
    }
  }
}
