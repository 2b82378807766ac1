import type { Diagnostic } from '@palisade/diagnostics';
import type { ParsedFeed } from './feed-entry.ts';
import { normalizeTarget, ScannedUrl, scanUrl } from './normalize-target.ts';
import { type FeedOptions, parseFeed } from './parse-feed.ts';
import { type EntrySource, ReputationIndex } from './reputation-index.ts';
import { blocksAt, type Risk, type SecurityLevel } from './risk-level.ts';

export interface ReputationPolicy {
  level: SecurityLevel;
  /** Block what no feed rates (turns the module into allow-list-only egress). */
  blockUntested: boolean;
}

export interface Verdict {
  url: string;
  action: 'block' | 'allow';
  risk: Risk;
  category: string | null;
  feed: string | null;
}

export interface FeedUpdate {
  /** False when the feed was unusable; the previous version (if any) stays in force. */
  applied: boolean;
  entries: number;
  diagnostics: Diagnostic[];
}

/**
 * The feeds in force and the index built from them. Feeds are replaced one at a time; a feed that
 * fails to parse as a whole leaves its previous version in force, so a truncated download never
 * opens the gate. The index is rebuilt lazily on the next lookup after a change.
 */
export class ReputationStore {
  private readonly feeds = new Map<string, ParsedFeed>();
  private index: ReputationIndex | undefined;
  private readonly scanned = new ScannedUrl();

  updateFeed(text: string, options: FeedOptions): FeedUpdate {
    const r = parseFeed(text, options);
    if (!r.feed) return { applied: false, entries: this.feeds.get(options.name)?.entries.length ?? 0, diagnostics: r.diagnostics };
    // The store keys feeds by the caller's name so that an update replaces the same feed.
    this.feeds.set(options.name, { ...r.feed, name: r.feed.name || options.name });
    this.index = undefined;
    return { applied: true, entries: r.feed.entries.length, diagnostics: r.diagnostics };
  }

  /** Adds an already parsed feed (e.g. a policy's own allow and block lists). */
  setFeed(key: string, feed: ParsedFeed): void {
    this.feeds.set(key, feed);
    this.index = undefined;
  }

  removeFeed(name: string): boolean {
    const had = this.feeds.delete(name);
    if (had) this.index = undefined;
    return had;
  }

  feedNames(): string[] {
    return [...this.feeds.keys()];
  }

  get size(): number {
    return this.getIndex().size;
  }

  /** Bytes of the index's typed arrays, which `process.memoryUsage().heapUsed` does not count. */
  get indexTypedArrayBytes(): number {
    return this.getIndex().typedArrayBytes;
  }

  private getIndex(): ReputationIndex {
    if (this.index) return this.index;
    // Sizing the tables from the counts up front spares rehashing a million keys while building.
    let hosts = 0;
    let urls = 0;
    let prefixes = 0;
    for (const feed of this.feeds.values()) {
      for (const e of feed.entries) {
        if (e.kind === 'url') urls++;
        else if (e.kind === 'prefix') prefixes++;
        else if (e.kind !== 'domain' && e.kind !== 'host') continue;
        hosts++;
      }
    }
    const idx = new ReputationIndex({ hosts, urls, prefixes });
    for (const feed of this.feeds.values()) {
      const sources = new Map<string, EntrySource>();
      let last: EntrySource | undefined;
      for (const e of feed.entries) {
        // Runs of entries share risk and category; the map is only consulted when they change.
        if (!last || last.risk !== e.risk || last.category !== e.category) {
          const k = `${e.risk}\u0000${e.category}`;
          last = sources.get(k);
          if (!last) sources.set(k, (last = { feed: feed.name, list: feed.list, risk: e.risk, category: e.category }));
        }
        idx.add(e, last);
      }
    }
    idx.trim();
    this.index = idx;
    return idx;
  }

  /**
   * Allow beats block: an allow-list match lets the request through whatever else matches. Among
   * block matches the highest risk wins, then the most specific entry, then the first feed.
   */
  evaluate(url: string, policy: ReputationPolicy): Verdict {
    const idx = this.getIndex();
    const r = this.scanned;
    // The common case is read in place; the rest (and `http://host` without a path) is normalized first.
    if (scanUrl(url, r) && (r.pathEnd > r.pathStart || !r.scheme)) idx.selectScanned(url, r);
    else {
      const t = normalizeTarget(url);
      if (!t) return { url, action: policy.blockUntested ? 'block' : 'allow', risk: 'untested', category: null, feed: null };
      idx.select(t);
    }
    if (idx.allowSource >= 0) {
      const a = idx.source(idx.allowSource);
      return { url, action: 'allow', risk: 'safe', category: a.category, feed: a.feed };
    }
    if (idx.blockSource < 0) return { url, action: policy.blockUntested ? 'block' : 'allow', risk: 'untested', category: null, feed: null };
    const best = idx.source(idx.blockSource);
    return {
      url,
      action: blocksAt(policy.level, best.risk, policy.blockUntested) ? 'block' : 'allow',
      risk: best.risk,
      category: best.category,
      feed: best.feed,
    };
  }
}
