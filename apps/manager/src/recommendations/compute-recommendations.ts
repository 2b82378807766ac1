import { type AdvisoryIndex, type InventoryItem, type ListeningPort, matchInventory, type RunningProcess } from '@palisade/vuln';
import type { RuleAssignment } from '../store/computer-repository.ts';
import type { RuleCatalog } from './rule-catalog.ts';

export interface Vulnerability {
  advisoryId: string;
  aliases: string[];
  summary?: string;
  severity?: string;
  score?: number;
  package: { ecosystem: string; name: string; version: string; location: string; purl: string };
  fixedVersion?: string;
  /** Catalog rules that shield it, e.g. `ips/CVE-2017-5638`. */
  shieldedBy: string[];
}

export interface RuleRecommendation {
  module: string;
  ruleId: string;
  title: string;
  cves: string[];
  /** Why: every (advisory or rule range, package, version) that calls for the rule. */
  reasons: Array<{
    via: 'advisory' | 'rule-range' | 'software';
    advisoryId: string;
    package: string;
    version: string;
    location: string;
    fixedVersion?: string;
  }>;
}

export interface RecommendationResult {
  vulnerabilities: Vulnerability[];
  recommended: RuleRecommendation[];
  /** The change to what is assigned now: only rules assigned by recommendation are ever removed. */
  diff: {
    assign: RuleRecommendation[];
    unassign: Array<{ module: string; ruleId: string; reason: string }>;
  };
}

const pkgOf = (i: InventoryItem) => ({ ecosystem: i.ecosystem, name: i.name, version: i.version, location: i.location, purl: i.purl });

/**
 * The heart of virtual patching: inventory x vulnerability data x rule metadata. A rule is
 * recommended when an advisory that affects an installed package names one of the rule's CVEs,
 * or when the rule's own `affected` ranges match an installed package (so a shipped patch works
 * even before any OSV data is imported). Rules a person assigned by hand are never unassigned.
 */
export function computeRecommendations(
  items: readonly InventoryItem[],
  advisories: AdvisoryIndex,
  catalog: RuleCatalog,
  current: readonly RuleAssignment[],
  running: { ports?: readonly Partial<ListeningPort>[]; processes?: readonly Partial<RunningProcess>[] } = {},
): RecommendationResult {
  const recs = new Map<string, RuleRecommendation>();
  const recommend = (rule: RuleCatalog['rules'][number], reason: RuleRecommendation['reasons'][number]) => {
    const key = `${rule.module}/${rule.id}`;
    let r = recs.get(key);
    if (!r) {
      r = { module: rule.module, ruleId: rule.id, title: rule.title, cves: rule.cves, reasons: [] };
      recs.set(key, r);
    }
    if (!r.reasons.some((x) => x.advisoryId === reason.advisoryId && x.location === reason.location && x.package === reason.package))
      r.reasons.push(reason);
  };

  const vulnerabilities: Vulnerability[] = [];
  for (const f of matchInventory(advisories, items)) {
    const ids = [f.advisory.id, ...f.advisory.aliases].map((x) => x.toUpperCase());
    const rules = [...new Set(ids.flatMap((id) => catalog.byCve.get(id) ?? []))];
    for (const rule of rules) {
      recommend(rule, {
        via: 'advisory',
        advisoryId: f.advisory.id,
        package: f.item.name,
        version: f.item.version,
        location: f.item.location,
        ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
      });
    }
    vulnerabilities.push({
      advisoryId: f.advisory.id,
      aliases: f.advisory.aliases,
      ...(f.advisory.summary ? { summary: f.advisory.summary } : {}),
      ...(f.severityLabel ? { severity: f.severityLabel } : {}),
      ...(f.severityScore !== undefined ? { score: f.severityScore } : {}),
      package: pkgOf(f.item),
      ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
      shieldedBy: rules.map((r) => `${r.module}/${r.id}`),
    });
  }
  for (const f of matchInventory(catalog.index, items)) {
    const [module, ...rest] = f.advisory.id.split(':');
    const rule = catalog.get(module!, rest.join(':'));
    if (!rule) continue;
    recommend(rule, {
      via: 'rule-range',
      advisoryId: rule.id,
      package: f.item.name,
      version: f.item.version,
      location: f.item.location,
      ...(f.fixedVersion ? { fixedVersion: f.fixedVersion } : {}),
    });
  }

  // Application rules (log inspection, integrity): the software is there, whatever its version.
  // Items are indexed by name once, not walked again for every rule.
  const itemsByName = new Map<string, number[]>();
  items.forEach((i, n) => {
    const key = i.name.toLowerCase();
    const at = itemsByName.get(key);
    if (at) at.push(n);
    else itemsByName.set(key, [n]);
  });
  for (const rule of catalog.rules) {
    const sw = rule.software;
    if (!sw) continue;
    const matching = [...new Set(sw.packages.map((p) => p.toLowerCase()))].flatMap((p) => itemsByName.get(p) ?? []).sort((a, b) => a - b);
    for (const n of matching) {
      const i = items[n]!;
      recommend(rule, { via: 'software', advisoryId: `package:${i.name}`, package: i.name, version: i.version, location: i.location });
    }
    for (const p of running.processes ?? []) {
      if (p.name && sw.processes.includes(p.name))
        recommend(rule, {
          via: 'software',
          advisoryId: `process:${p.name}`,
          package: p.name,
          version: '',
          location: p.exe ?? `pid ${p.pid ?? '?'}`,
        });
    }
    for (const p of running.ports ?? []) {
      if (typeof p.port === 'number' && sw.ports.includes(p.port))
        recommend(rule, {
          via: 'software',
          advisoryId: `port:${p.port}`,
          package: p.process ?? `${p.protocol ?? 'tcp'}/${p.port}`,
          version: '',
          location: `${p.protocol ?? 'tcp'} ${p.address ?? '*'}:${p.port}`,
        });
    }
  }

  const recommended = [...recs.values()].sort((a, b) => `${a.module}/${a.ruleId}`.localeCompare(`${b.module}/${b.ruleId}`));
  const assigned = new Set(current.map((a) => `${a.module}/${a.ruleId}`));
  const wanted = new Set(recs.keys());
  return {
    vulnerabilities: vulnerabilities.sort(
      (a, b) => a.advisoryId.localeCompare(b.advisoryId) || a.package.location.localeCompare(b.package.location),
    ),
    recommended,
    diff: {
      assign: recommended.filter((r) => !assigned.has(`${r.module}/${r.ruleId}`)),
      unassign: current
        .filter((a) => a.source === 'recommendation' && !wanted.has(`${a.module}/${a.ruleId}`))
        .map((a) => ({
          module: a.module,
          ruleId: a.ruleId,
          reason:
            a.module === 'ips'
              ? 'no installed package is affected any more (upgraded or removed)'
              : 'the software it watches is no longer installed, running or listening',
        })),
    },
  };
}
