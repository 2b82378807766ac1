import type { Risk } from './risk-level.ts';

/**
 * How an entry matches:
 * - `url`: that exact URL (query included, fragment ignored);
 * - `prefix`: URLs on that host and port whose path starts with the entry's path;
 * - `domain`: the host and all its subdomains;
 * - `host`: the host only;
 * - `cidr`: IP literals in the network (a single IP is a /32 or /128);
 * - `keyword`: URLs containing the text.
 */
export type EntryKind = 'url' | 'prefix' | 'domain' | 'host' | 'cidr' | 'keyword';

export interface FeedEntry {
  kind: EntryKind;
  /** Normalized: `host:port/path?query` for url/prefix, the host for domain/host, `ip/len` for cidr. */
  value: string;
  /** 0 = any port. */
  port: number;
  risk: Risk;
  category: string;
  /** 1-based line in the feed text, for diagnostics and for explaining a verdict; 0 when none (JSON). */
  line: number;
}

export type FeedFormat = 'urlhaus-csv' | 'hosts' | 'cidr-list' | 'plain-list' | 'palisade-json';
export type ListKind = 'block' | 'allow';

export interface ParsedFeed {
  name: string;
  format: FeedFormat;
  list: ListKind;
  entries: FeedEntry[];
}
