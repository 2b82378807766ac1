import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import {
  type AppSecDocument,
  loadAppSecRules,
  loadRuleSet,
  RECOMMENDED_BASE_CONFIG,
  type RuleSet,
  type RuleSource,
} from '@palisade/seclang';
import { parse } from 'yaml';
import type { IpsSettings } from './ips-settings.ts';
import { loadVirtualPatch, type PatchFolderFiles, type VirtualPatch } from './virtual-patch-pack.ts';

export interface RuleFileAccess {
  readFile(path: string): string | undefined;
  glob(pattern: string): string[];
  /** The patch folders of `ruleSets.patches.dir`, already read. */
  patches: readonly PatchFolderFiles[];
}

export interface IpsRuleSet {
  ruleSet: RuleSet;
  patches: VirtualPatch[];
  /** Rules whose matches are reported but never block (per-rule `detect` override). */
  detectOnly: ReadonlySet<number>;
  /** rule id -> CVE ids, from the patch metadata (tags may be missing in custom rules). */
  cveByRule: ReadonlyMap<number, string[]>;
}

const EXCLUSION_ID_BASE = 9_599_000;

/**
 * The recommended strict-multipart rule (200003) also refuses bare-LF lines, which the engine
 * flags inside file contents too, so every upload of a Unix text file (CSV, source, logs) was
 * refused with 400. Same checks minus MULTIPART_LF_LINE; framing errors are still refused.
 */
const STRICT_MULTIPART = `SecRuleRemoveById 200003
SecRule MULTIPART_BOUNDARY_QUOTED|MULTIPART_BOUNDARY_WHITESPACE|MULTIPART_DATA_BEFORE|MULTIPART_DATA_AFTER|MULTIPART_HEADER_FOLDING|MULTIPART_MISSING_SEMICOLON|MULTIPART_INVALID_QUOTING|MULTIPART_INVALID_PART|MULTIPART_INVALID_HEADER_FOLDING|MULTIPART_FILE_LIMIT_EXCEEDED "!@eq 0" "id:9598002,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
`;

function joinPath(dir: string, rel: string): string {
  return `${dir.replace(/\/+$/, '')}/${rel}`;
}

/**
 * Assembles the SecLang a service runs, in this order: engine settings (body limits), exclusions
 * (they must run before the rules they switch off), virtual patches (single-rule blocks that
 * decide with their own id before CRS scores), CRS at the chosen paranoia level, custom SecLang,
 * CrowdSec AppSec rules, and last the `disable` overrides. I/O only through `files`.
 */
export function buildIpsRuleSet(s: IpsSettings, files: RuleFileAccess, patchIds?: readonly string[]): LoadResult<IpsRuleSet> {
  const diagnostics: Diagnostic[] = [];
  const sources: RuleSource[] = [];
  sources.push({
    name: 'palisade:base',
    text: `${RECOMMENDED_BASE_CONFIG}SecResponseBodyAccess Off\nSecRequestBodyLimit ${s.bodyLimit}\nSecRequestBodyNoFilesLimit ${s.bodyLimit}\nSecRequestBodyLimitAction ${s.bodyLimitAction}\n${STRICT_MULTIPART}`,
  });
  const excl: string[] = [];
  s.exclusions.forEach((e, i) => {
    const id = EXCLUSION_ID_BASE + i;
    const ctls = e.targets?.length
      ? e.ruleIds.flatMap((r) => e.targets!.map((t) => `ctl:ruleRemoveTargetById=${r};${t}`))
      : e.ruleIds.map((r) => `ctl:ruleRemoveById=${r}`);
    const cond = e.pathPrefix ? `SecRule REQUEST_FILENAME "@beginsWith ${e.pathPrefix.replace(/"/g, '')}"` : 'SecAction';
    excl.push(`${cond} "id:${id},phase:1,pass,nolog,t:none,${ctls.join(',')}"`);
  });
  if (excl.length) sources.push({ name: 'palisade:exclusions', text: `${excl.join('\n')}\n` });

  const patches: VirtualPatch[] = [];
  const cveByRule = new Map<number, string[]>();
  if (s.ruleSets.patches) {
    const only = patchIds ?? s.ruleSets.patches.only;
    for (const f of files.patches) {
      const id = f.dir.split('/').pop()!;
      if (only && !only.includes(id)) continue;
      const p = loadVirtualPatch(f);
      if (!p.ok) {
        diagnostics.push(...p.diagnostics);
        continue;
      }
      patches.push(p.value);
      for (const r of p.value.meta.ruleIds) cveByRule.set(r, p.value.meta.cves);
      sources.push({ name: `${f.dir}/rule.conf`, text: p.value.ruleConf });
    }
    if (only)
      for (const o of only)
        if (!patches.some((p) => p.meta.id === o))
          diagnostics.push({
            code: 'IPS_PATCH_UNKNOWN',
            message: `assigned patch ${o} is not in ${s.ruleSets.patches.dir}`,
            severity: 'error',
            file: 'modules.ips',
          });
  }
  if (s.ruleSets.crs) {
    const dir = s.ruleSets.crs.dir;
    if (
      files.readFile(joinPath(dir, 'crs-setup.conf.example')) === undefined &&
      files.readFile(joinPath(dir, 'crs-setup.conf')) === undefined
    ) {
      diagnostics.push({
        code: 'IPS_CRS_MISSING',
        message: `no crs-setup.conf(.example) in ${dir}`,
        severity: 'error',
        file: 'modules.ips',
      });
    } else {
      const setup = files.readFile(joinPath(dir, 'crs-setup.conf')) !== undefined ? 'crs-setup.conf' : 'crs-setup.conf.example';
      sources.push({
        name: joinPath(dir, 'palisade-crs.conf'),
        text: `SecAction "id:9598001,phase:1,pass,nolog,t:none,setvar:tx.blocking_paranoia_level=${s.paranoia},setvar:tx.detection_paranoia_level=${s.paranoia},setvar:'tx.allowed_methods=${s.allowedMethods.join(' ')}'"\nInclude ${joinPath(dir, setup)}\nInclude ${joinPath(dir, 'rules/*.conf')}\n`,
      });
    }
  }
  for (const c of s.ruleSets.seclang ?? []) sources.push({ name: `custom:${c.name}`, text: c.text });
  const disable = s.overrides.filter((o) => o.action === 'disable').map((o) => o.ruleId);
  const tail: RuleSource[] = disable.length ? [{ name: 'palisade:overrides', text: `SecRuleRemoveById ${disable.join(' ')}\n` }] : [];
  if (diagnostics.length) return { ok: false, diagnostics };

  let loaded: LoadResult<RuleSet>;
  const crowdsec = s.ruleSets.crowdsec ?? [];
  if (crowdsec.length) {
    const docs: AppSecDocument[] = [];
    for (const c of crowdsec) {
      try {
        docs.push({ file: `crowdsec:${c.name}`, doc: parse(c.yaml) });
      } catch (e) {
        diagnostics.push({ code: 'IPS_CROWDSEC_YAML', message: (e as Error).message, severity: 'error', file: `crowdsec:${c.name}` });
      }
    }
    if (diagnostics.length) return { ok: false, diagnostics };
    // The disable overrides sit in the prelude: they cannot remove AppSec rules (documented).
    loaded = loadAppSecRules(docs, { prelude: [...sources, ...tail], readFile: files.readFile, glob: files.glob });
  } else {
    loaded = loadRuleSet([...sources, ...tail], { readFile: files.readFile, glob: files.glob });
  }
  if (!loaded.ok) return { ok: false, diagnostics: [...diagnostics, ...loaded.diagnostics] };
  const detectOnly = new Set(s.overrides.filter((o) => o.action === 'detect').map((o) => o.ruleId));
  return loadResult({ ruleSet: loaded.value, patches, detectOnly, cveByRule }, [...diagnostics, ...loaded.diagnostics]);
}
