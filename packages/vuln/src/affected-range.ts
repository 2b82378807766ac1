import type { VersionComparator } from './compare-versions.ts';
import type { OsvEvent } from './osv-schema.ts';

type EventKind = 'introduced' | 'fixed' | 'last_affected' | 'limit';

export interface RangeEvent {
  kind: EventKind;
  version: string;
}

/**
 * An ECOSYSTEM or SEMVER range, prepared once at import: events are sorted so that evaluation
 * is a single pass and does not depend on the order a feed happened to list them in.
 */
export interface PreparedRange {
  events: RangeEvent[];
  limits: string[];
  compare: VersionComparator;
}

function eventOf(e: OsvEvent): RangeEvent | undefined {
  if (e.introduced !== undefined) return { kind: 'introduced', version: e.introduced };
  if (e.fixed !== undefined) return { kind: 'fixed', version: e.fixed };
  if (e.last_affected !== undefined) return { kind: 'last_affected', version: e.last_affected };
  if (e.limit !== undefined) return { kind: 'limit', version: e.limit };
  return undefined;
}

function isZero(v: string): boolean {
  return v === '0';
}

export function prepareRange(events: readonly OsvEvent[], compare: VersionComparator): PreparedRange {
  const list: RangeEvent[] = [];
  const limits: string[] = [];
  for (const raw of events) {
    const e = eventOf(raw);
    if (!e) continue;
    if (e.kind === 'limit') {
      if (e.version !== '*') limits.push(e.version);
    } else list.push(e);
  }
  list.sort((a, b) => {
    // "0" means "before the first version" and is not a real version in most orderings.
    if (isZero(a.version) && a.kind === 'introduced') return isZero(b.version) && b.kind === 'introduced' ? 0 : -1;
    if (isZero(b.version) && b.kind === 'introduced') return 1;
    return compare(a.version, b.version);
  });
  return { events: list, limits, compare };
}

/**
 * OSV evaluation: walking the sorted events, `introduced <= v` opens, `fixed <= v` closes, and
 * `last_affected < v` closes; the state after the last applicable event decides. A version at
 * or past every `limit` is outside the range.
 */
export function isAffectedByRange(range: PreparedRange, version: string): boolean {
  const { compare } = range;
  if (range.limits.length > 0 && !range.limits.some((l) => compare(version, l) < 0)) return false;
  let affected = false;
  for (const e of range.events) {
    if (e.kind === 'introduced') {
      if (isZero(e.version) || compare(version, e.version) >= 0) affected = true;
      else break;
    } else if (e.kind === 'fixed') {
      if (compare(version, e.version) >= 0) affected = false;
      else break;
    } else if (compare(version, e.version) > 0) affected = false;
    else break;
  }
  return affected;
}

/** The fix for `version`: the first `fixed` event after it in this range, if any. */
export function fixedVersionFor(range: PreparedRange, version: string): string | undefined {
  for (const e of range.events) if (e.kind === 'fixed' && range.compare(version, e.version) < 0) return e.version;
  return undefined;
}
