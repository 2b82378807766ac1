import type { Diagnostic, LoadResult } from '@palisade/diagnostics';
import { loadResult } from '@palisade/diagnostics';
import { Compile } from 'typebox/compile';
import { type OsvRecord, OsvRecordSchema } from './osv-schema.ts';

/** The OSV-style `affected` entries that rule metadata carries (`rules/ips/<CVE>/meta.yaml`). */
export interface RuleAffected {
  ecosystem: string;
  name: string;
  ranges?: { type: string; events: Record<string, string>[] }[];
  versions?: string[];
}

const validator = Compile(OsvRecordSchema);

/**
 * Turns a rule's `affected` list into an OSV record with the rule's id, so that rule metadata
 * goes through the same index and matcher as advisories: a recommendation scan puts rules in
 * their own `AdvisoryIndex` and `matchInventory` answers "which virtual patches does this host
 * need" with the same ordering and range rules as "which advisories affect it".
 */
export function ruleAdvisoryRecord(id: string, affected: readonly RuleAffected[], file = id, aliases: string[] = []): LoadResult<OsvRecord> {
  const record = {
    id,
    modified: '1970-01-01T00:00:00Z',
    aliases,
    affected: affected.map((a) => ({
      package: { ecosystem: a.ecosystem, name: a.name },
      ...(a.ranges ? { ranges: a.ranges } : {}),
      ...(a.versions ? { versions: a.versions } : {}),
    })),
  };
  const diagnostics: Diagnostic[] = [];
  if (!validator.Check(record)) {
    const e = validator.Errors(record)[0];
    diagnostics.push({ code: 'VULN_RULE_AFFECTED', severity: 'error', message: `${id}: affected is not OSV-shaped: ${e?.instancePath ?? ''} ${e?.message ?? ''}`.trim(), file });
  }
  return loadResult(record as OsvRecord, diagnostics);
}
