export type { EntryKind, FeedEntry, FeedFormat, ListKind, ParsedFeed } from './feed-entry.ts';
export { canonicalIpv6, DEFAULT_PORTS, ipv4ToNumber, ipv6ToBigInt, normalizeTarget, type Target, urlKey } from './normalize-target.ts';
export { detectFeedFormat, type FeedOptions, type FeedParseResult, normalizeCidr, parseFeed } from './parse-feed.ts';
export { type EntrySource, type IndexRecord, ReputationIndex } from './reputation-index.ts';
export { type FeedUpdate, type ReputationPolicy, ReputationStore, type Verdict } from './reputation-store.ts';
export { blocksAt, parseRisk, RISK_RANK, RISKS, type Risk, SECURITY_LEVELS, type SecurityLevel } from './risk-level.ts';
