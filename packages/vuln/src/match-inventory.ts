import { type AdvisoryIndex, type AdvisorySummary, type AffectedEntry, normalizeRelease } from './advisory-index.ts';
import { fixedVersionFor, isAffectedByRange } from './affected-range.ts';
import { isDistributionEcosystem, parseEcosystem } from './ecosystem.ts';
import type { InventoryItem } from './inventory-item.ts';
import { type SeverityLabel, summarizeSeverity } from './cvss-score.ts';
import type { OsvSeverity } from './osv-schema.ts';

export interface Finding {
  advisory: AdvisorySummary;
  item: InventoryItem;
  /** The name and version that matched: the source package for distributions, else the item. */
  matchedName: string;
  matchedVersion: string;
  /** Advisory ecosystem string, e.g. `Debian:9`. */
  advisoryEcosystem: string;
  /** Lowest fixed version above the installed one, when the advisory names one. */
  fixedVersion?: string;
  /** `range` when a range matched, `versions` when only the explicit list did. */
  matchedBy: 'range' | 'versions';
  severity: OsvSeverity[];
  /** Highest CVSS v3 base score of `severity`, when there is a v3 vector. */
  severityScore?: number;
  /** From the score, else from the publisher's label. */
  severityLabel?: SeverityLabel;
}

export interface MatchOptions {
  /**
   * When the inventory item's ecosystem has no release (`Debian` rather than `Debian:12`),
   * match advisories of every release. Off by default: a Debian 9 advisory says nothing reliable
   * about a Debian 12 host, and versions of different releases overlap.
   */
  anyReleaseWhenUnknown?: boolean;
}

function releaseMatches(entry: AffectedEntry, itemRelease: string, distribution: boolean, opts: MatchOptions): boolean {
  if (entry.release === '' || !distribution) return true;
  if (itemRelease === '') return opts.anyReleaseWhenUnknown === true;
  return entry.release === itemRelease;
}

function matchEntry(entry: AffectedEntry, version: string): { by: 'range' | 'versions'; fixed?: string } | undefined {
  let hit: { by: 'range' | 'versions'; fixed?: string } | undefined;
  for (const range of entry.ranges) {
    if (isAffectedByRange(range, version)) {
      const fixed = fixedVersionFor(range, version);
      if (!hit || (fixed && (!hit.fixed || range.compare(fixed, hit.fixed) < 0))) hit = { by: 'range', fixed };
    }
  }
  if (hit) return hit;
  if (entry.versions?.has(version)) return { by: 'versions' };
  return undefined;
}

/**
 * Finds the advisories that affect each inventory item: one index lookup per (item, name),
 * then range evaluation over the few entries found. Distribution packages are looked up by
 * source package too, because Debian, Ubuntu and Alpine advisories name source packages.
 * One finding per (advisory, item), however many affected entries of the advisory match.
 */
export function matchInventory(index: AdvisoryIndex, items: readonly InventoryItem[], opts: MatchOptions = {}): Finding[] {
  const findings: Finding[] = [];
  for (const item of items) {
    const itemEcosystem = parseEcosystem(item.ecosystem);
    const itemRelease = normalizeRelease(itemEcosystem.release, itemEcosystem.base);
    const distribution = isDistributionEcosystem(itemEcosystem.base);
    const seen = new Set<string>();
    const candidates: [string, string][] = [[item.name, item.version]];
    if (item.sourceName && item.sourceName !== item.name) candidates.push([item.sourceName, item.sourceVersion ?? item.version]);
    for (const [name, version] of candidates) {
      for (const entry of index.lookup(item.ecosystem, name)) {
        if (seen.has(entry.advisory.id) || !releaseMatches(entry, itemRelease, distribution, opts)) continue;
        const hit = matchEntry(entry, version);
        if (!hit) continue;
        seen.add(entry.advisory.id);
        const severity = entry.severity.length > 0 ? entry.severity : entry.advisory.severity;
        const summary = summarizeSeverity(severity, entry.advisory.publisherSeverity);
        findings.push({
          advisory: entry.advisory,
          item,
          matchedName: name,
          matchedVersion: version,
          advisoryEcosystem: entry.ecosystem,
          fixedVersion: hit.fixed,
          matchedBy: hit.by,
          severity,
          ...(summary.score !== undefined ? { severityScore: summary.score } : {}),
          ...(summary.label ? { severityLabel: summary.label } : {}),
        });
      }
    }
  }
  return findings;
}
