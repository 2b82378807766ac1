import type { Diagnostic } from '@palisade/diagnostics';
import { type PreparedRange, prepareRange } from './affected-range.ts';
import { comparatorFor } from './compare-versions.ts';
import { normalizePackageName, parseEcosystem } from './ecosystem.ts';
import type { OsvRecord, OsvSeverity } from './osv-schema.ts';
import { compareSemverVersions } from './version/semver-version.ts';

/** The part of an advisory a report needs; `details` is dropped to keep 200k advisories small. */
export interface AdvisorySummary {
  id: string;
  modified: string;
  summary?: string;
  /** Every other identifier: `aliases`, plus `upstream` and `related` where CVE ids live for Ubuntu/Debian/Alpine. */
  aliases: string[];
  severity: OsvSeverity[];
  /** Publisher's own severity word (GHSA `database_specific.severity`: `HIGH`, `MODERATE`, ...). */
  publisherSeverity?: string;
  /** Origin of the record (file or `archive.zip!entry`). */
  source: string;
  /** Set when a newer copy of the same id replaced this one. */
  superseded?: boolean;
}

export interface AffectedEntry {
  advisory: AdvisorySummary;
  ecosystem: string;
  /** Release part of the ecosystem, normalised (`12`, `22.04`, `3.18`); '' when none. */
  release: string;
  name: string;
  ranges: PreparedRange[];
  versions: Set<string> | undefined;
  severity: OsvSeverity[];
}

export interface IndexStats {
  advisories: number;
  entries: number;
  withdrawn: number;
  ignoredGitRanges: number;
}

/** Key of the index: the ecosystem without release plus the normalised package name. */
function keyOf(ecosystemBase: string, name: string): string {
  return `${ecosystemBase}\u0000${normalizePackageName(ecosystemBase, name)}`;
}

/**
 * Releases are compared loosely so that os-release values meet OSV spellings: `Ubuntu:22.04:LTS`
 * and `22.04`, `Alpine:v3.18` and `3.18`. Ubuntu Pro (ESM) advisories apply to the same release,
 * where the only fix is the Pro package. Red Hat releases are CPE-like streams
 * (`enterprise_linux:9::appstream`, `rhel_eus:8.6::baseos`) and compare by major version.
 */
export function normalizeRelease(release: string, ecosystemBase = ''): string {
  if (ecosystemBase === 'Red Hat') return /(?:^|:)(\d+)(?:\.\d+)?(?::|$)/.exec(release)?.[1] ?? release;
  return release
    .replace(/^Pro:/i, '')
    .replace(/:LTS$/i, '')
    .replace(/^v(?=\d)/, '');
}

/**
 * Advisories indexed by (ecosystem, normalised package name), so that matching an inventory
 * costs one map lookup per package instead of a scan of the feed. Adding a record with an id
 * already present keeps whichever copy has the later `modified` time (incremental imports).
 */
export class AdvisoryIndex {
  private readonly byKey = new Map<string, AffectedEntry[]>();
  private readonly byId = new Map<string, AdvisorySummary>();
  readonly stats: IndexStats = { advisories: 0, entries: 0, withdrawn: 0, ignoredGitRanges: 0 };

  get size(): number {
    return this.stats.advisories;
  }

  /** Adds one record; returns warnings about parts that cannot be evaluated (never errors). */
  add(record: OsvRecord, source = record.id): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    if (record.withdrawn) {
      this.stats.withdrawn++;
      return diagnostics;
    }
    const previous = this.byId.get(record.id);
    if (previous) {
      if (previous.modified >= record.modified) return diagnostics;
      previous.superseded = true;
      this.stats.advisories--;
    }
    const advisory: AdvisorySummary = {
      id: record.id,
      modified: record.modified,
      summary: record.summary,
      aliases: [...new Set([...(record.aliases ?? []), ...(record.upstream ?? []), ...(record.related ?? [])])],
      severity: record.severity ?? [],
      source,
    };
    const label = record.database_specific?.severity;
    if (typeof label === 'string') advisory.publisherSeverity = label;
    this.byId.set(record.id, advisory);
    this.stats.advisories++;
    let gitOnly = false;
    for (const affected of record.affected ?? []) {
      const pkg = affected.package;
      if (!pkg) {
        this.stats.ignoredGitRanges += (affected.ranges ?? []).filter((r) => r.type === 'GIT').length;
        gitOnly = true;
        continue;
      }
      const eco = parseEcosystem(pkg.ecosystem);
      const ecosystemCompare = comparatorFor(eco.base);
      const ranges: PreparedRange[] = [];
      for (const range of affected.ranges ?? []) {
        if (range.type === 'GIT') {
          this.stats.ignoredGitRanges++;
          continue;
        }
        const compare = range.type === 'SEMVER' ? compareSemverVersions : range.type === 'ECOSYSTEM' ? ecosystemCompare : undefined;
        if (!compare) {
          diagnostics.push({
            code: range.type === 'ECOSYSTEM' ? 'VULN_OSV_UNKNOWN_ECOSYSTEM' : 'VULN_OSV_RANGE_TYPE',
            severity: 'warning',
            message:
              range.type === 'ECOSYSTEM'
                ? `${record.id}: no version ordering for ecosystem "${pkg.ecosystem}"; only its explicit versions list is used`
                : `${record.id}: range type "${range.type}" is not supported and was ignored`,
            file: source,
          });
          continue;
        }
        if (!range.events.some((e) => e.introduced !== undefined)) {
          diagnostics.push({
            code: 'VULN_OSV_RANGE_NO_INTRODUCED',
            severity: 'warning',
            message: `${record.id}: a ${range.type} range for ${pkg.name} has no "introduced" event and matches nothing`,
            file: source,
          });
        }
        ranges.push(prepareRange(range.events, compare));
      }
      const versions = affected.versions && affected.versions.length > 0 ? new Set(affected.versions) : undefined;
      if (ranges.length === 0 && !versions) continue;
      const entry: AffectedEntry = {
        advisory,
        ecosystem: pkg.ecosystem,
        release: normalizeRelease(eco.release, eco.base),
        name: pkg.name,
        ranges,
        versions,
        severity: affected.severity ?? [],
      };
      const key = keyOf(eco.base, pkg.name);
      const list = this.byKey.get(key);
      if (list) list.push(entry);
      else this.byKey.set(key, [entry]);
      this.stats.entries++;
    }
    if (gitOnly && (record.affected ?? []).every((a) => !a.package)) {
      diagnostics.push({
        code: 'VULN_OSV_GIT_ONLY',
        severity: 'warning',
        message: `${record.id}: only GIT commit ranges (no package); it cannot match an inventory and was ignored`,
        file: source,
      });
    }
    return diagnostics;
  }

  addAll(records: Iterable<OsvRecord>, source?: string): Diagnostic[] {
    const diagnostics: Diagnostic[] = [];
    for (const r of records) for (const d of this.add(r, source ?? r.id)) diagnostics.push(d);
    return diagnostics;
  }

  /** Entries for one package of one ecosystem; the release filter is the caller's (matchInventory). */
  lookup(ecosystem: string, name: string): AffectedEntry[] {
    const list = this.byKey.get(keyOf(parseEcosystem(ecosystem).base, name));
    if (!list) return [];
    return list.some((e) => e.advisory.superseded) ? list.filter((e) => !e.advisory.superseded) : list;
  }

  advisory(id: string): AdvisorySummary | undefined {
    return this.byId.get(id);
  }
}
