import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import { type Static, Type } from 'typebox';
import { Value } from 'typebox/value';
import { parse } from 'yaml';
import { parseReplayJsonl, type ReplayRequest } from './replay-request.ts';

/** OSV ecosystems the pack may name (base part, before any `:release`). */
export const PATCH_ECOSYSTEMS = [
  'Maven',
  'npm',
  'PyPI',
  'Go',
  'NuGet',
  'Packagist',
  'RubyGems',
  'crates.io',
  'Debian',
  'Ubuntu',
  'Alpine',
  'Red Hat',
] as const;

/** Palisade's own rule id range: CRS uses 9xx,xxx and below 1,000,000, ModSecurity 200,xxx. */
export const PATCH_ID_MIN = 9_500_000;
export const PATCH_ID_MAX = 9_599_999;

const Event = Type.Union([
  Type.Object({ introduced: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ fixed: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
  Type.Object({ last_affected: Type.String({ minLength: 1 }) }, { additionalProperties: false }),
]);

export const PatchMetaSchema = Type.Object(
  {
    id: Type.String({ pattern: '^(?:CVE-\\d{4}-\\d{4,}|[A-Z][A-Z0-9-]+)$' }),
    title: Type.String({ minLength: 10, maxLength: 200 }),
    cves: Type.Array(Type.String({ pattern: '^CVE-\\d{4}-\\d{4,}$' }), { minItems: 1 }),
    /** Absent where no score was verified at authoring time (better none than a made-up one). */
    cvss: Type.Optional(
      Type.Object(
        {
          version: Type.Union([Type.Literal('3.0'), Type.Literal('3.1'), Type.Literal('4.0')]),
          score: Type.Number({ minimum: 0, maximum: 10 }),
          vector: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    ruleIds: Type.Array(Type.Integer({ minimum: PATCH_ID_MIN, maximum: PATCH_ID_MAX }), { minItems: 1 }),
    /** OSV-style affected packages, what recommendation scans match host inventories against. */
    affected: Type.Array(
      Type.Object(
        {
          ecosystem: Type.String({ minLength: 1 }),
          name: Type.String({ minLength: 1 }),
          ranges: Type.Array(
            Type.Object(
              {
                type: Type.Union([Type.Literal('ECOSYSTEM'), Type.Literal('SEMVER'), Type.Literal('GIT')]),
                events: Type.Array(Event, { minItems: 1 }),
              },
              { additionalProperties: false },
            ),
            { minItems: 1 },
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** Appliances and servers no package inventory sees: matched by product, not by package. */
    products: Type.Optional(
      Type.Array(
        Type.Object(
          { vendor: Type.String({ minLength: 1 }), product: Type.String({ minLength: 1 }), versions: Type.String({ minLength: 1 }) },
          { additionalProperties: false },
        ),
        { minItems: 1 },
      ),
    ),
    application: Type.Object(
      {
        type: Type.String({ minLength: 1 }),
        protocol: Type.Union([Type.Literal('http'), Type.Literal('https')]),
        ports: Type.Array(Type.Integer({ minimum: 1, maximum: 65535 }), { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    references: Type.Array(Type.String({ pattern: '^https://' }), { minItems: 1 }),
  },
  { additionalProperties: false },
);
export type PatchMeta = Static<typeof PatchMetaSchema>;

/** What one `rules/ips/<id>/` folder holds, read by the caller. */
export interface PatchFolderFiles {
  dir: string;
  ruleConf: string;
  metaYaml: string;
  /** `tests/*.jsonl` by file name; names containing `exploit` must block, `benign` must pass. */
  tests: Record<string, string>;
}

export interface VirtualPatch {
  dir: string;
  meta: PatchMeta;
  ruleConf: string;
  exploits: ReplayRequest[];
  benign: ReplayRequest[];
}

function diag(code: string, message: string, file: string, line?: number): Diagnostic {
  return { code, message, severity: 'error', file, ...(line !== undefined ? { line } : {}) };
}

/**
 * Validates one patch folder: metadata schema, ecosystems, rule ids declared = rule ids in the
 * SecLang (so an event's rule id always leads back to its CVE), and that both kinds of fixtures
 * exist. It does not run the rules: that needs the engine and is the caller's test.
 */
export function loadVirtualPatch(f: PatchFolderFiles): LoadResult<VirtualPatch> {
  const diagnostics: Diagnostic[] = [];
  const metaFile = `${f.dir}/meta.yaml`;
  let raw: unknown;
  try {
    raw = parse(f.metaYaml);
  } catch (e) {
    return { ok: false, diagnostics: [diag('IPS_PATCH_META_INVALID', `not YAML: ${(e as Error).message}`, metaFile)] };
  }
  if (!Value.Check(PatchMetaSchema, raw)) {
    for (const e of Value.Errors(PatchMetaSchema, raw).slice(0, 10))
      diagnostics.push(diag('IPS_PATCH_META_INVALID', `${e.instancePath || '/'}: ${e.message}`, metaFile));
    return { ok: false, diagnostics };
  }
  const meta = raw;
  const base = f.dir.split('/').pop() ?? f.dir;
  if (meta.id !== base) diagnostics.push(diag('IPS_PATCH_META_INVALID', `id ${meta.id} does not match folder ${base}`, metaFile));
  if (!meta.cves.includes(meta.id) && meta.id.startsWith('CVE-'))
    diagnostics.push(diag('IPS_PATCH_META_INVALID', `cves must include the folder CVE ${meta.id}`, metaFile));
  for (const a of meta.affected) {
    const eco = a.ecosystem.split(':')[0]!;
    if (!(PATCH_ECOSYSTEMS as readonly string[]).includes(eco))
      diagnostics.push(diag('IPS_PATCH_META_INVALID', `unknown OSV ecosystem ${a.ecosystem}`, metaFile));
    for (const r of a.ranges)
      if (!('introduced' in r.events[0]!))
        diagnostics.push(diag('IPS_PATCH_META_INVALID', `${a.name}: a range starts with an introduced event`, metaFile));
  }
  if (meta.affected.length === 0 && !meta.products)
    diagnostics.push(diag('IPS_PATCH_META_INVALID', 'needs affected packages or products, or no scan can assign it', metaFile));
  const confIds = [...f.ruleConf.matchAll(/\bid:(\d+)/g)].map((m) => Number(m[1]));
  const declared = [...meta.ruleIds].sort();
  if (JSON.stringify([...confIds].sort()) !== JSON.stringify(declared)) {
    diagnostics.push(
      diag('IPS_PATCH_RULE_IDS', `ruleIds ${declared.join(',')} differ from ids in rule.conf ${confIds.join(',')}`, `${f.dir}/rule.conf`),
    );
  }
  if (!/\bdeny\b/.test(f.ruleConf) || !/status:403/.test(f.ruleConf))
    diagnostics.push(diag('IPS_PATCH_NOT_BLOCKING', 'a virtual patch blocks with deny,status:403', `${f.dir}/rule.conf`));
  if (/setvar:'?tx\.(?:inbound_)?anomaly_score/i.test(f.ruleConf))
    diagnostics.push(diag('IPS_PATCH_NOT_BLOCKING', 'virtual patches do not use anomaly scoring', `${f.dir}/rule.conf`));
  const exploits: ReplayRequest[] = [];
  const benign: ReplayRequest[] = [];
  for (const [name, text] of Object.entries(f.tests)) {
    const file = `${f.dir}/tests/${name}`;
    const { requests, errors } = parseReplayJsonl(text, file);
    for (const e of errors) diagnostics.push(diag('IPS_FIXTURE_INVALID', e, file));
    if (name.includes('exploit')) exploits.push(...requests);
    else if (name.includes('benign')) benign.push(...requests);
    else diagnostics.push(diag('IPS_FIXTURE_INVALID', 'fixture file names contain "exploit" or "benign"', file));
  }
  if (!exploits.length)
    diagnostics.push(diag('IPS_FIXTURE_MISSING', 'at least one exploit request (tests/exploit.jsonl)', `${f.dir}/tests`));
  if (!benign.length) diagnostics.push(diag('IPS_FIXTURE_MISSING', 'at least one benign request (tests/benign.jsonl)', `${f.dir}/tests`));
  return loadResult({ dir: f.dir, meta, ruleConf: f.ruleConf, exploits, benign }, diagnostics);
}
