import type { EntryKind, FeedEntry, ListKind } from './feed-entry.ts';
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
  kind: EntryKind;
  /** 0 = any port. */
  port: number;
  value: string;
}

type Slot = IndexRecord | IndexRecord[];

function put(map: Map<string | number, Slot>, key: string | number, rec: IndexRecord): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, rec);
  else if (Array.isArray(cur)) cur.push(rec);
  else map.set(key, [cur, rec]);
}

/** Specificity for ties between records of the same risk: the narrower entry explains the verdict better. */
const SPECIFICITY: Record<EntryKind, number> = { url: 6, prefix: 5, host: 4, domain: 3, cidr: 2, keyword: 1 };

/**
 * The lookup structure: hash maps of normalized keys, so a lookup costs a handful of map probes
 * whatever the number of entries. Domains are found by walking up the labels of the host
 * (`a.b.evil.example` -> `b.evil.example` -> `evil.example` -> `example`); a public suffix never
 * sits in the domain map (the feed parser turns it into a host-only entry), so the walk cannot
 * let one listed tenant of `github.io` block every other.
 */
export class ReputationIndex {
  private readonly urls = new Map<string | number, Slot>();
  private readonly prefixes = new Map<string | number, Slot>();
  private readonly prefixHosts = new Set<string>();
  private readonly domains = new Map<string | number, Slot>();
  private readonly v4 = new Map<number, Map<string | number, Slot>>();
  private v4Lengths: number[] = [];
  private readonly v6 = new Map<number, Map<string | number, Slot>>();
  private v6Lengths: number[] = [];
  private readonly keywords: { text: string; rec: IndexRecord }[] = [];
  size = 0;

  add(entry: FeedEntry, src: EntrySource): void {
    const rec: IndexRecord = { src, kind: entry.kind, port: entry.port, value: entry.value };
    this.size++;
    switch (entry.kind) {
      case 'url':
        put(this.urls, entry.value, rec);
        break;
      case 'prefix': {
        put(this.prefixes, entry.value, rec);
        this.prefixHosts.add(entry.value.slice(0, entry.value.indexOf('/')));
        break;
      }
      case 'domain':
      case 'host':
        put(this.domains, entry.value, rec);
        break;
      case 'cidr': {
        const [ip, lenText] = entry.value.split('/');
        const len = Number(lenText);
        const n4 = ipv4ToNumber(ip!);
        if (n4 !== undefined) {
          let m = this.v4.get(len);
          if (!m) {
            this.v4.set(len, (m = new Map()));
            this.v4Lengths = [...this.v4.keys()].sort((a, b) => b - a);
          }
          put(m, n4, rec);
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
        this.keywords.push({ text: entry.value, rec });
        break;
    }
  }

  /** Every record matching the target, allow and block alike. */
  matches(t: Target, out: IndexRecord[] = []): IndexRecord[] {
    const port = t.port;
    const take = (slot: Slot | undefined, pred?: (r: IndexRecord) => boolean) => {
      if (slot === undefined) return;
      if (Array.isArray(slot)) {
        for (const r of slot) if ((r.port === 0 || r.port === port) && (!pred || pred(r))) out.push(r);
      } else if ((slot.port === 0 || slot.port === port) && (!pred || pred(slot))) out.push(slot);
    };
    if (t.path !== '' && this.urls.size) {
      // An entry without a query matches the URL whatever query is appended (a cheap evasion otherwise).
      take(this.urls.get(`${t.host}:${port}${t.path}${t.query}`));
      if (t.query) take(this.urls.get(`${t.host}:${port}${t.path}`));
    }
    if (t.path !== '' && this.prefixHosts.has(`${t.host}:${port}`)) {
      const base = `${t.host}:${port}`;
      const p = t.path;
      take(this.prefixes.get(base + p));
      for (let i = p.length - 2; i >= 0; i--) {
        if (p.charCodeAt(i) === 47) take(this.prefixes.get(base + p.slice(0, i + 1)));
      }
    }
    if (t.hostKind === 'domain') {
      let h = t.host;
      take(this.domains.get(h));
      for (let dot = h.indexOf('.'); dot >= 0; dot = h.indexOf('.')) {
        h = h.slice(dot + 1);
        take(this.domains.get(h), isDomain);
      }
    } else if (t.hostKind === 'ipv4') {
      const ip = t.ipv4!;
      for (const len of this.v4Lengths) {
        const key = len === 0 ? 0 : ((ip >>> (32 - len)) << (32 - len)) >>> 0;
        take(this.v4.get(len)!.get(key));
      }
    } else {
      const ip = t.ipv6!;
      for (const len of this.v6Lengths) {
        const shift = BigInt(128 - len);
        take(this.v6.get(len)!.get(((ip >> shift) << shift).toString(16)));
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

function isDomain(r: IndexRecord): boolean {
  return r.kind === 'domain';
}

export function moreSpecific(a: IndexRecord, b: IndexRecord): boolean {
  return SPECIFICITY[a.kind] > SPECIFICITY[b.kind] || (SPECIFICITY[a.kind] === SPECIFICITY[b.kind] && a.port !== 0 && b.port === 0);
}
