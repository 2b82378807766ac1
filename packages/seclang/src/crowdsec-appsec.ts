import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import type { RegexEngine } from './regex.ts';
import { type LoadOptions, type RuleSet, RuleSetBuilder, type RuleSource } from './rule-set.ts';

/** One parsed CrowdSec AppSec rule file (the caller parses the YAML: the engine has no YAML dependency). */
export interface AppSecDocument {
  /** File name, for diagnostics. */
  file: string;
  doc: unknown;
}

export interface AppSecLoadOptions extends LoadOptions {
  /**
   * Directory that `seclang_files_rules` entries are relative to (CrowdSec's data dir, where it
   * keeps CRS). Without it such documents are refused.
   */
  seclangFilesDir?: string;
  /** Disruptive action of compiled virtual patches: `deny` (CrowdSec in-band) or `pass` (log only). */
  action?: 'deny' | 'pass';
  /** Regex engine for AppSec patterns; re2 by default because hub rules are third-party input. */
  appsecRegexEngine?: RegexEngine;
  /** SecLang loaded before the AppSec documents (e.g. the recommended base configuration). */
  prelude?: RuleSource[];
}

const ZONES: Record<string, string> = {
  ARGS: 'ARGS_GET',
  ARGS_NAMES: 'ARGS_GET_NAMES',
  BODY_ARGS: 'ARGS_POST',
  BODY_ARGS_NAMES: 'ARGS_POST_NAMES',
  COOKIES: 'REQUEST_COOKIES',
  COOKIES_NAMES: 'REQUEST_COOKIES_NAMES',
  FILES: 'FILES',
  FILES_NAMES: 'FILES_NAMES',
  FILENAMES: 'FILES',
  FILES_TOTAL_SIZE: 'FILES_COMBINED_SIZE',
  HEADERS: 'REQUEST_HEADERS',
  HEADERS_NAMES: 'REQUEST_HEADERS_NAMES',
  METHOD: 'REQUEST_METHOD',
  PROTOCOL: 'REQUEST_PROTOCOL',
  URI: 'REQUEST_FILENAME',
  URI_FULL: 'REQUEST_URI',
  RAW_BODY: 'REQUEST_BODY',
};

const TRANSFORMS: Record<string, string> = {
  lowercase: 'lowercase',
  uppercase: 'uppercase',
  b64decode: 'base64Decode',
  base64decode: 'base64Decode',
  hexdecode: 'hexDecode',
  length: 'length',
  urldecode: 'urlDecodeUni',
  trim: 'trim',
  normalizepath: 'normalizePath',
  normalize_path: 'normalizePath',
  htmlentitydecode: 'htmlEntityDecode',
  html_entity_decode: 'htmlEntityDecode',
  js_decode: 'jsDecode',
  jsdecode: 'jsDecode',
  css_decode: 'cssDecode',
  cssdecode: 'cssDecode',
  removenulls: 'removeNulls',
  compresswhitespace: 'compressWhitespace',
  removewhitespace: 'removeWhitespace',
};

const MATCHES: Record<string, string> = {
  regex: 'rx',
  equals: 'streq',
  startswith: 'beginsWith',
  endswith: 'endsWith',
  contains: 'contains',
  libinjectionsql: 'detectSQLi',
  libinjectionxss: 'detectXSS',
  gt: 'gt',
  lt: 'lt',
  gte: 'ge',
  lte: 'le',
  eq: 'eq',
};

interface Leaf {
  zones?: unknown;
  variables?: unknown;
  transform?: unknown;
  match?: { type?: unknown; value?: unknown };
}

/** Stable id per (rule name, branch) so the same hub rule always gets the same SecLang id. */
function ruleId(name: string, branch: number): number {
  let h = 0x811c9dc5;
  const s = `${name}#${branch}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // 1e9..1.9e9: clear of CRS (9xxxxx) and ModSecurity's reserved ranges.
  return 1_000_000_000 + (h % 900_000_000);
}

const MAX_BRANCHES = 64;

/** An and/or tree in disjunctive normal form: a list of conjunctions of leaves. */
function toDnf(node: unknown, path: string, errors: string[]): Leaf[][] {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) {
    errors.push(`${path}: expected a rule object`);
    return [];
  }
  const n = node as Record<string, unknown>;
  if (Array.isArray(n.and)) {
    let acc: Leaf[][] = [[]];
    n.and.forEach((child, i) => {
      const sub = toDnf(child, `${path}.and[${i}]`, errors);
      const next: Leaf[][] = [];
      for (const a of acc) for (const b of sub) next.push([...a, ...b]);
      acc = next.slice(0, MAX_BRANCHES + 1);
    });
    return acc;
  }
  if (Array.isArray(n.or)) return n.or.flatMap((child, i) => toDnf(child, `${path}.or[${i}]`, errors));
  if (n.match !== undefined || n.zones !== undefined) return [[n as Leaf]];
  errors.push(`${path}: a rule needs and, or, or zones+match`);
  return [];
}

function quoteArg(s: string): string | null {
  if (s.endsWith('\\')) return null;
  return `"${s.replace(/"/g, '\\"')}"`;
}

function leafToSecRule(leaf: Leaf, path: string, errors: string[]): { vars: string; op: string; transforms: string[] } | null {
  const zones = Array.isArray(leaf.zones) ? leaf.zones : [];
  if (zones.length === 0) {
    errors.push(`${path}: zones is missing or empty`);
    return null;
  }
  const transformsRaw = Array.isArray(leaf.transform) ? leaf.transform.map(String) : [];
  let count = false;
  const transforms: string[] = [];
  for (const t of transformsRaw) {
    const lt = t.toLowerCase();
    if (lt === 'count') count = true;
    else if (TRANSFORMS[lt]) transforms.push(TRANSFORMS[lt]!);
    else errors.push(`${path}: unsupported transform "${t}"`);
  }
  const variables = Array.isArray(leaf.variables) ? leaf.variables.map(String) : [];
  const vars: string[] = [];
  for (const z of zones.map(String)) {
    const target = ZONES[z.toUpperCase()];
    if (!target) {
      errors.push(`${path}: unsupported zone "${z}"`);
      continue;
    }
    const prefix = count ? '&' : '';
    if (variables.length === 0) vars.push(`${prefix}${target}`);
    else for (const v of variables) vars.push(`${prefix}${target}:${/[|'\s]/.test(v) ? `'${v}'` : v}`);
  }
  const m = leaf.match;
  const type = typeof m?.type === 'string' ? m.type : '';
  const op = MATCHES[type.toLowerCase()];
  if (!op) {
    errors.push(`${path}: unsupported match type "${type}"`);
    return null;
  }
  const value = m?.value === undefined || m.value === null ? '' : String(m.value);
  const arg = quoteArg(op === 'detectSQLi' || op === 'detectXSS' ? `@${op}` : `@${op} ${value}`);
  if (arg === null) {
    errors.push(`${path}: a match value ending in a backslash cannot be expressed in SecLang`);
    return null;
  }
  return { vars: vars.join('|'), op: arg, transforms };
}

/** Compiles one AppSec document to SecLang text (the shared compiler then builds the rules). */
export function appSecToSecLang(
  d: AppSecDocument,
  action: 'deny' | 'pass',
  errors: string[],
): { text: string; files: string[] } {
  const doc = d.doc as Record<string, unknown> | null;
  if (!doc || typeof doc !== 'object') {
    errors.push('document is not a mapping');
    return { text: '', files: [] };
  }
  const name = typeof doc.name === 'string' ? doc.name : d.file;
  const lines: string[] = [];
  if (Array.isArray(doc.seclang_rules)) for (const l of doc.seclang_rules) lines.push(String(l));
  const files = Array.isArray(doc.seclang_files_rules) ? doc.seclang_files_rules.map(String) : [];
  const rules = Array.isArray(doc.rules) ? doc.rules : doc.rules === undefined ? [] : null;
  if (rules === null) errors.push('rules must be a list');
  const safeName = name.replace(/'/g, '');
  let branch = 0;
  (rules ?? []).forEach((r, i) => {
    const conj = toDnf(r, `rules[${i}]`, errors);
    if (conj.length > MAX_BRANCHES) {
      errors.push(`rules[${i}]: expands to more than ${MAX_BRANCHES} alternatives`);
      return;
    }
    for (const leaves of conj) {
      const compiled = leaves.map((l, k) => leafToSecRule(l, `rules[${i}] term ${k + 1}`, errors));
      if (compiled.some((c) => c === null) || compiled.length === 0) continue;
      const id = ruleId(name, branch++);
      compiled.forEach((c, k) => {
        const t = ['t:none', ...c!.transforms.map((x) => `t:${x}`)];
        const acts =
          k === 0
            ? [`id:${id}`, 'phase:2', action === 'deny' ? 'deny,status:403' : 'pass', 'log', `msg:'CrowdSec AppSec ${safeName}'`, `tag:'crowdsec'`, `tag:'crowdsec/${safeName}'`, ...t]
            : t;
        if (k < compiled.length - 1) acts.push('chain');
        lines.push(`${k === 0 ? '' : '  '}SecRule ${c!.vars} ${c!.op} "${acts.join(',')}"`);
      });
    }
  });
  return { text: lines.join('\n'), files };
}

function join(dir: string, rel: string): string {
  return rel.startsWith('/') ? rel : `${dir.replace(/\/$/, '')}/${rel}`;
}

/**
 * Loads CrowdSec AppSec rule documents into a RuleSet (all-or-nothing, like SecLang). Each
 * document compiles to SecLang, so the two formats share one evaluator.
 */
export function loadAppSecRules(docs: readonly AppSecDocument[], options: AppSecLoadOptions = {}): LoadResult<RuleSet> {
  const builder = new RuleSetBuilder(options);
  const diagnostics: Diagnostic[] = [];
  for (const p of options.prelude ?? []) builder.addSource(p);
  for (const d of docs) {
    const errors: string[] = [];
    const { text, files } = appSecToSecLang(d, options.action ?? 'deny', errors);
    for (const e of errors) diagnostics.push({ code: 'SECLANG_APPSEC_INVALID', message: e, severity: 'error', file: d.file });
    if (errors.length) continue;
    builder.addSource({ name: d.file, text, regexEngine: options.appsecRegexEngine ?? 're2' });
    for (const f of files) {
      if (!options.seclangFilesDir || !options.readFile) {
        diagnostics.push({ code: 'SECLANG_APPSEC_FILES_UNAVAILABLE', message: `seclang_files_rules entry ${f} needs seclangFilesDir and a file reader`, severity: 'error', file: d.file });
        continue;
      }
      const path = join(options.seclangFilesDir, f);
      const paths = /[*?[]/.test(path) ? (options.glob?.(path) ?? []) : [path];
      for (const p of paths) {
        const t = options.readFile(p);
        if (t === undefined) {
          diagnostics.push({ code: 'SECLANG_APPSEC_FILES_UNAVAILABLE', message: `cannot read ${p}`, severity: 'error', file: d.file });
          continue;
        }
        // CrowdSec's own files are trusted like any SecLang source.
        builder.addSource({ name: p, text: t });
      }
    }
  }
  const r = builder.build();
  const all = [...diagnostics, ...r.diagnostics];
  return r.ok ? loadResult(r.value, all) : { ok: false, diagnostics: all };
}
