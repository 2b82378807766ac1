import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '@palisade/diagnostics';
import { AdvisoryIndex, type RuleAffected, ruleAdvisoryRecord } from '@palisade/vuln';
import { parse } from 'yaml';

/** One shipped rule that a recommendation scan can assign (today: IPS virtual patches). */
export interface CatalogRule {
  module: 'ips' | 'log-inspection' | 'integrity';
  /** The rule's folder name, e.g. `CVE-2017-5638`: what assignments refer to. */
  id: string;
  title: string;
  cves: string[];
  cvss?: number;
  /** SecLang rule ids inside the rule file. */
  ruleIds: number[];
  /** As the rule's metadata states it: `{ ecosystem, name, ranges | versions }` per package. */
  affected: RuleAffected[];
  application?: { type?: string; protocol?: string; ports?: number[] };
}

export const DEFAULT_RULES_DIR = fileURLToPath(new URL('../../../../rules', import.meta.url));

/**
 * Palisade's shipped rules with the metadata recommendation scans need. The catalog is also
 * turned into an advisory index (each rule an OSV-like record with its `affected` ranges), so one
 * matcher finds both the advisories that affect a host and the rules that shield them.
 */
export class RuleCatalog {
  readonly rules: CatalogRule[];
  readonly index = new AdvisoryIndex();
  readonly byCve = new Map<string, CatalogRule[]>();
  readonly problems: string[] = [];

  constructor(rules: CatalogRule[]) {
    this.rules = rules;
    for (const r of rules) {
      for (const cve of r.cves) this.byCve.set(cve.toUpperCase(), [...(this.byCve.get(cve.toUpperCase()) ?? []), r]);
      if (r.affected.length) {
        // Rule metadata names packages flat; the matcher wants OSV's `package: {ecosystem, name}`.
        const record = ruleAdvisoryRecord(`${r.module}:${r.id}`, r.affected, `${r.module}/${r.id}/meta.yaml`, r.cves);
        if (!record.ok) {
          for (const d of record.diagnostics) this.problems.push(formatDiagnostic(d));
          continue;
        }
        for (const d of this.index.add(record.value)) this.problems.push(`${r.module}/${r.id}: ${d.message}`);
      }
    }
  }

  get(module: string, id: string): CatalogRule | undefined {
    return this.rules.find((r) => r.module === module && r.id === id);
  }

  /** Reads `<dir>/ips/<id>/meta.yaml`; a folder whose metadata cannot be read is reported and skipped. */
  static load(dir = DEFAULT_RULES_DIR): RuleCatalog {
    const rules: CatalogRule[] = [];
    const problems: string[] = [];
    const ipsDir = join(dir, 'ips');
    if (existsSync(ipsDir)) {
      for (const name of readdirSync(ipsDir).sort()) {
        const file = join(ipsDir, name, 'meta.yaml');
        if (!existsSync(file)) continue;
        try {
          const m = parse(readFileSync(file, 'utf8')) as Record<string, any>;
          rules.push({
            module: 'ips',
            id: String(m.id ?? name),
            title: String(m.title ?? name),
            cves: Array.isArray(m.cves) ? m.cves.map(String) : [],
            ...(typeof m.cvss?.score === 'number' ? { cvss: m.cvss.score } : {}),
            ruleIds: Array.isArray(m.ruleIds) ? m.ruleIds.map(Number) : [],
            affected: Array.isArray(m.affected) ? m.affected : [],
            ...(m.application ? { application: m.application } : {}),
          });
        } catch (err) {
          problems.push(`${file}: ${(err as Error).message}`);
        }
      }
    }
    const catalog = new RuleCatalog(rules);
    catalog.problems.push(...problems);
    return catalog;
  }
}
