import type { EntryKind, FeedEntry, ListKind } from './feed-entry.ts';
import { HostTable } from './host-table.ts';
import { ipv4ToNumber, ipv6ToBigInt, normalizeTarget, type Target } from './normalize-target.ts';
import type { Risk } from './risk-level.ts';

/** Where an entry came from; shared by every entry of a feed with the same risk and category. */
export interface EntrySource {
  feed: string;
  list: ListKind;
  risk: Risk;
  category: string;
}

export interface IndexRecord {
  src: EntrySource;
  /** What the record is found by inside its map or host node. */
  key: string;
  kind: EntryKind;
  /** Specificity rank of the kind, precomputed for tie-breaking on the hot path. */
  spec: number;
  /** 0 = any port. */
  port: number;
  value: string;
}

type Slot = IndexRecord | IndexRecord[];

function record(entry: FeedEntry, src: EntrySource, key: string): IndexRecord {
  return { src, key, kind: entry.kind, spec: SPECIFICITY[entry.kind], port: entry.port, value: entry.value };
}

/** The same entry listed twice (in one feed, or in two feeds' shared source) adds nothing. */
function duplicate(a: IndexRecord, b: IndexRecord): boolean {
  return a.src === b.src && a.kind === b.kind && a.port === b.port && a.key === b.key;
}

function put(map: Map<string | number, Slot>, key: string | number, rec: IndexRecord): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, rec);
  else if (Array.isArray(cur)) {
    for (const r of cur) if (duplicate(r, rec)) return;
    cur.push(rec);
  } else if (!duplicate(cur, rec)) map.set(key, [cur, rec]);
}

/** Specificity for ties between records of the same risk: the narrower entry explains the verdict better. */
const SPECIFICITY: Record<EntryKind, number> = { url: 6, prefix: 5, host: 4, domain: 3, cidr: 2, keyword: 1 };

/**
 * Everything listed under one exact host name: its own domain/host records, and the URL and
 * URL-prefix entries on it. One probe per host label finds all three.
 */
interface HostNode {
  recs?: Slot;
  /** Exact URLs keyed by `/path?query`; an array while small, a map once a host has many. */
  urls?: IndexRecord[] | Map<string, Slot>;
  prefixes?: IndexRecord[] | Map<string, Slot>;
}

const SMALL = 8;

function putKeyed(node: HostNode, field: 'urls' | 'prefixes', rec: IndexRecord): void {
  const cur = node[field];
  if (cur === undefined) node[field] = [rec];
  else if (Array.isArray(cur)) {
    for (const r of cur) if (duplicate(r, rec)) return;
    cur.push(rec);
    if (cur.length > SMALL) {
      const m = new Map<string | number, Slot>();
      for (const r of cur) put(m, r.key, r);
      node[field] = m as Map<string, Slot>;
    }
  } else put(cur as Map<string | number, Slot>, rec.key, rec);
}

function takeKeyed(out: IndexRecord[], slot: IndexRecord[] | Map<string, Slot> | undefined, key: string, port: number): void {
  if (slot === undefined) return;
  if (Array.isArray(slot)) {
    for (const r of slot) if (r.key === key && (r.port === 0 || r.port === port)) out.push(r);
  } else take(out, slot.get(key), port, false);
}

/**
 * The lookup structure: hash maps of normalized keys, so a lookup costs a handful of map probes
 * whatever the number of entries. Domains are found by walking up the labels of the host
 * (`a.b.evil.example` -> `b.evil.example` -> `evil.example`), stopping above the shortest listed
 * name; a public suffix never sits in the map as a `domain` (the feed parser turns it into a
 * host-only entry), so the walk cannot let one listed tenant of `github.io` block every other.
 */
export class ReputationIndex {
  private readonly hosts: HostTable<HostNode>;
  /** Scratch space for the suffix starts and hashes of the host being looked up. */
  private starts = new Int32Array(64);
  private hashes = new Int32Array(64);
  /** Fewest labels of any listed name: the label walk stops before shorter suffixes. */
  private minLabels = Number.POSITIVE_INFINITY;
  private readonly v4 = new Map<number, Map<string | number, Slot>>();
  private v4Lengths: number[] = [];
  private readonly v6 = new Map<number, Map<string | number, Slot>>();
  private v6Lengths: number[] = [];
  private readonly keywords: { text: string; rec: IndexRecord }[] = [];
  size = 0;

  /** `expected` sizes the host table up front (the store knows the entry count) to avoid regrowth. */
  constructor(expected = 16) {
    this.hosts = new HostTable<HostNode>(expected);
  }

  private node(host: string): HostNode {
    const h = HostTable.hash(host);
    let n = this.hosts.getSuffix(host, 0, h);
    if (n === undefined) {
      n = {};
      this.hosts.insert(host, h, n);
      let labels = 1;
      for (let i = 0; i < host.length; i++) if (host.charCodeAt(i) === 46) labels++;
      if (labels < this.minLabels) this.minLabels = labels;
    }
    return n;
  }

  add(entry: FeedEntry, src: EntrySource): void {
    this.size++;
    switch (entry.kind) {
      case 'url':
      case 'prefix': {
        // value is `host:port/path?query`; the host part keys the node, the rest keys the entry.
        const slash = entry.value.indexOf('/');
        const hp = entry.value.slice(0, slash);
        const colon = hp.lastIndexOf(':');
        // Keyed by path (and query) alone: the port is on the record and filtered on match, which
        // spares building a port-qualified string on every lookup.
        const rec = record(entry, src, entry.value.slice(slash));
        putKeyed(this.node(hp.slice(0, colon)), entry.kind === 'url' ? 'urls' : 'prefixes', rec);
        break;
      }
      case 'domain':
      case 'host': {
        const n = this.node(entry.value);
        const rec = record(entry, src, entry.value);
        if (n.recs === undefined) n.recs = rec;
        else if (Array.isArray(n.recs)) {
          if (!n.recs.some((r) => duplicate(r, rec))) n.recs.push(rec);
        } else if (!duplicate(n.recs, rec)) n.recs = [n.recs, rec];
        break;
      }
      case 'cidr': {
        const [ip, lenText] = entry.value.split('/');
        const len = Number(lenText);
        const rec = record(entry, src, entry.value);
        const n4 = ipv4ToNumber(ip!);
        if (n4 !== undefined) {
          let m = this.v4.get(len);
          if (!m) {
            this.v4.set(len, (m = new Map()));
            this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
          }
          put(m, v4Key(n4, len), rec);
        } else {
          let m = this.v6.get(len);
          if (!m) {
            this.v6.set(len, (m = new Map()));
            this.v6Lengths = [...this.v6.keys()].sort((a, b) => b - a);
          }
          put(m, ipv6ToBigInt(ip!)!.toString(16), rec);
        }
        break;
      }
      case 'keyword':
        this.keywords.push({ text: entry.value, rec: record(entry, src, entry.value) });
        break;
    }
  }

  /** Every record matching the target, allow and block alike. Closure-free: this is the hot path. */
  matches(t: Target, out: IndexRecord[] = []): IndexRecord[] {
    const port = t.port;
    const host = t.host;
    // One right-to-left pass hashes every suffix that starts a label: starts[k] and hashes[k],
    // k = 0 being the whole host.
    let n = 0;
    if (this.hosts.size) {
      if (host.length + 1 > this.starts.length) {
        this.starts = new Int32Array(host.length * 2);
        this.hashes = new Int32Array(host.length * 2);
      }
      let h = 0x811c9dc5;
      for (let i = host.length - 1; i >= 0; i--) {
        const c = host.charCodeAt(i);
        if (c === 46) {
          this.starts[n] = i + 1;
          this.hashes[n++] = h;
        }
        h = Math.imul(h ^ c, 16777619);
      }
      this.starts[n] = 0;
      this.hashes[n++] = h;
    }
    if (n > 0) {
      const node = this.hosts.getSuffix(host, 0, this.hashes[n - 1]!);
      if (node !== undefined) {
        take(out, node.recs, port, false);
        if (t.path !== '') {
          if (node.urls !== undefined) {
            // An entry without a query matches the URL whatever query is appended (a cheap evasion otherwise).
            if (t.query) takeKeyed(out, node.urls, t.path + t.query, port);
            takeKeyed(out, node.urls, t.path, port);
          }
          if (node.prefixes !== undefined) {
            const p = t.path;
            takeKeyed(out, node.prefixes, p, port);
            for (let i = p.length - 2; i >= 0; i--) {
              if (p.charCodeAt(i) === 47) takeKeyed(out, node.prefixes, p.slice(0, i + 1), port);
            }
          }
        }
      }
    }
    if (t.hostKind === 'domain') {
      // Parents, from the longest down, never shorter than the shortest listed name.
      for (let k = n - 2, labels = n - 1; k >= 0 && labels >= this.minLabels; k--, labels--) {
        const node = this.hosts.getSuffix(host, this.starts[k]!, this.hashes[k]!);
        if (node !== undefined) take(out, node.recs, port, true);
      }
    } else if (t.hostKind === 'ipv4') {
      const ip = t.ipv4!;
      for (const len of this.v4Lengths) take(out, this.v4.get(len)!.get(v4Key(ip, len)), port, false);
    } else {
      const ip = t.ipv6!;
      for (const len of this.v6Lengths) {
        const shift = BigInt(128 - len);
        take(out, this.v6.get(len)!.get(((ip >> shift) << shift).toString(16)), port, false);
      }
    }
    if (this.keywords.length) {
      const hay = `${t.host}${t.path}${t.query}`.toLowerCase();
      for (const k of this.keywords) if (hay.includes(k.text)) out.push(k.rec);
    }
    return out;
  }

  /** Convenience for tests and tools: normalize, then match. */
  lookup(input: string): IndexRecord[] {
    const t = normalizeTarget(input);
    return t ? this.matches(t) : [];
  }
}

/**
 * IPv4 keys: the network bits shifted down, which fit V8's small integers up to /30 (and hash
 * without allocating); /31 and /32 do not fit and use the number's decimal string.
 */
function v4Key(ip: number, len: number): number | string {
  if (len === 0) return 0;
  const net = ip >>> (32 - len);
  return len <= 30 ? net : String(net);
}

/** Appends the records of a slot that apply to the port; `domainsOnly` is for parent labels. */
function take(out: IndexRecord[], slot: Slot | undefined, port: number, domainsOnly: boolean): void {
  if (slot === undefined) return;
  if (Array.isArray(slot)) {
    for (const r of slot) if ((r.port === 0 || r.port === port) && (!domainsOnly || r.kind === 'domain')) out.push(r);
  } else if ((slot.port === 0 || slot.port === port) && (!domainsOnly || slot.kind === 'domain')) out.push(slot);
}

export function moreSpecific(a: IndexRecord, b: IndexRecord): boolean {
  return a.spec > b.spec || (a.spec === b.spec && a.port !== 0 && b.port === 0);
}
