import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '@palisade/diagnostics';
import { AdvisoryIndex, type RuleAffected, ruleAdvisoryRecord } from '@palisade/vuln';
import { parse } from 'yaml';

/** Software on a host that calls for a rule, whatever its version: by package, process or port. */
export interface SoftwareTrigger {
  /** Package names, any ecosystem (`nginx`, `openssh-server`). */
  packages: string[];
  /** Process names as `/proc/<pid>/comm` shows them (`nginx`, `sshd`). */
  processes: string[];
  /** Listening TCP/UDP ports. */
  ports: number[];
}

/**
 * One shipped rule that a recommendation scan can assign: IPS virtual patches (recommended by
 * vulnerable versions), and log-inspection and integrity rules (recommended by installed or
 * running software).
 */
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
  software?: SoftwareTrigger;
}

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

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
    // Log-inspection and integrity rules for applications: `<module dir>/apps/<id>/meta.yaml`.
    for (const [module, sub] of [
      ['log-inspection', 'log'],
      ['integrity', 'integrity'],
    ] as const) {
      const appsDir = join(dir, sub, 'apps');
      if (!existsSync(appsDir)) continue;
      for (const name of readdirSync(appsDir).sort()) {
        const file = join(appsDir, name, 'meta.yaml');
        if (!existsSync(file)) continue;
        try {
          const m = parse(readFileSync(file, 'utf8')) as Record<string, any>;
          const software: SoftwareTrigger = {
            packages: strings(m.software?.packages),
            processes: strings(m.software?.processes),
            ports: Array.isArray(m.software?.ports) ? m.software.ports.map(Number).filter(Number.isInteger) : [],
          };
          if (String(m.id ?? name) !== name) throw new Error(`id ${JSON.stringify(m.id)} differs from its folder name`);
          if (!software.packages.length && !software.processes.length && !software.ports.length)
            throw new Error('`software` names no package, process or port: nothing would ever recommend it');
          rules.push({ module, id: name, title: String(m.title ?? name), cves: [], ruleIds: [], affected: [], software });
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
