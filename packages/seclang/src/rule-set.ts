import { type Diagnostic, type LoadResult, loadResult } from '@palisade/diagnostics';
import { type Directive, type DirectiveArg, type Position, parseDirectives } from './parse-directives.ts';
import { createOperator, UnknownOperatorError } from './operators.ts';
import { RegexCache, type RegexEngine, RegexSyntaxError } from './regex.ts';
import { type CtlAction, type Disruptive, isMarker, type Rule, type RuleEntry, type SetVarAction, type TargetExclusion, type VariableSpec } from './rule.ts';
import { TRANSFORMATIONS } from './transformations.ts';

export type RuleEngineMode = 'On' | 'Off' | 'DetectionOnly';

/** Engine settings that SecLang directives set (SecRuleEngine, SecRequestBodyAccess, limits…). */
export interface EngineConfig {
  ruleEngine: RuleEngineMode;
  requestBodyAccess: boolean;
  responseBodyAccess: boolean;
  requestBodyLimit: number;
  requestBodyNoFilesLimit: number;
  requestBodyLimitAction: 'Reject' | 'ProcessPartial';
  responseBodyLimit: number;
  responseBodyLimitAction: 'Reject' | 'ProcessPartial';
  responseBodyMimeTypes: string[];
  argumentsLimit: number;
  componentSignatures: string[];
}

export interface RuleSource {
  /** File name or label used in diagnostics and as the base for relative Include paths. */
  name: string;
  text: string;
  /** Regex engine for this source's patterns: 're2' (linear time) for untrusted sources. */
  regexEngine?: RegexEngine;
}

export interface LoadOptions {
  /** Reads a file named by Include or @pmFromFile; undefined when it does not exist. */
  readFile?: (path: string) => string | undefined;
  /** Expands a glob pattern (absolute) to the matching file paths, sorted. */
  glob?: (pattern: string) => string[];
  /** Default regex engine for sources that do not choose one. */
  regexEngine?: RegexEngine;
  /** Settings applied before the first directive (directives override them). */
  config?: Partial<EngineConfig>;
}

export interface RuleSet {
  readonly config: EngineConfig;
  /** Rules and markers of each phase (index 1-5), in file order. */
  readonly phases: readonly (readonly RuleEntry[])[];
  readonly rules: readonly Rule[];
  readonly ruleCount: number;
}

export function defaultEngineConfig(): EngineConfig {
  return {
    ruleEngine: 'On',
    requestBodyAccess: true,
    responseBodyAccess: false,
    requestBodyLimit: 13107200,
    requestBodyNoFilesLimit: 131072,
    requestBodyLimitAction: 'Reject',
    responseBodyLimit: 524288,
    responseBodyLimitAction: 'ProcessPartial',
    responseBodyMimeTypes: ['text/plain', 'text/html'],
    argumentsLimit: 1000,
    componentSignatures: [],
  };
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '.' : i === 0 ? '/' : p.slice(0, i);
}

function resolvePath(base: string, p: string): string {
  if (p.startsWith('/')) return p;
  const parts = `${base}/${p}`.split('/');
  const out: string[] = [];
  for (const part of parts) {
    if (part === '.' || (part === '' && out.length > 0)) continue;
    if (part === '..' && out.length > 0 && out[out.length - 1] !== '..' && out[out.length - 1] !== '') out.pop();
    else out.push(part);
  }
  return out.join('/') || '.';
}

interface RawAction {
  name: string;
  value?: string;
  offset: number;
}

/** Splits `id:1,phase:2,msg:'a, b',t:none` honouring single quotes. */
export function splitActions(s: string): { actions: RawAction[]; error?: { offset: number; message: string } } {
  const actions: RawAction[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === ',')) i++;
    if (i >= s.length) break;
    const start = i;
    while (i < s.length && s[i] !== ':' && s[i] !== ',') i++;
    const name = s.slice(start, i).trim();
    if (s[i] !== ':') {
      actions.push({ name, offset: start });
      continue;
    }
    i++; // ':'
    while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
    let value = '';
    if (s[i] === "'") {
      i++;
      let closed = false;
      while (i < s.length) {
        if (s[i] === '\\' && s[i + 1] === "'") {
          value += "'";
          i += 2;
          continue;
        }
        if (s[i] === "'") {
          closed = true;
          i++;
          break;
        }
        value += s[i];
        i++;
      }
      if (!closed) return { actions, error: { offset: start, message: `unterminated quote in action ${name}` } };
      while (i < s.length && s[i] !== ',') i++;
    } else {
      const vs = i;
      while (i < s.length && s[i] !== ',') i++;
      value = s.slice(vs, i).trim();
    }
    actions.push({ name, value, offset: start });
  }
  return { actions };
}

function parseIdRanges(spec: string): [number, number][] | null {
  const out: [number, number][] = [];
  for (const part of spec.split(/[\s,]+/).filter((p) => p !== '')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    out.push([Number(m[1]), Number(m[2] ?? m[1])]);
  }
  return out;
}

export function idInRanges(id: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([a, b]) => id >= a && id <= b);
}

interface DefaultActions {
  raw: RawAction[];
  arg: DirectiveArg;
}

const KNOWN_VARIABLES = new Set([
  'ARGS', 'ARGS_COMBINED_SIZE', 'ARGS_GET', 'ARGS_GET_NAMES', 'ARGS_NAMES', 'ARGS_POST', 'ARGS_POST_NAMES', 'AUTH_TYPE', 'DURATION', 'ENV',
  'FILES', 'FILES_COMBINED_SIZE', 'FILES_NAMES', 'FILES_SIZES', 'FILES_TMPNAMES', 'FILES_TMP_CONTENT', 'FULL_REQUEST', 'FULL_REQUEST_LENGTH', 'GEO', 'HIGHEST_SEVERITY', 'INBOUND_DATA_ERROR',
  'IP', 'MATCHED_VAR', 'MATCHED_VARS', 'MATCHED_VAR_NAME', 'MATCHED_VARS_NAMES', 'MULTIPART_BOUNDARY_QUOTED', 'MULTIPART_BOUNDARY_WHITESPACE', 'MULTIPART_CRLF_LF_LINES',
  'MULTIPART_DATA_AFTER', 'MULTIPART_DATA_BEFORE', 'MULTIPART_FILE_LIMIT_EXCEEDED', 'MULTIPART_FILENAME', 'MULTIPART_HEADER_FOLDING', 'MULTIPART_INVALID_HEADER_FOLDING',
  'MULTIPART_INVALID_PART', 'MULTIPART_INVALID_QUOTING', 'MULTIPART_LF_LINE', 'MULTIPART_MISSING_SEMICOLON', 'MULTIPART_NAME', 'MULTIPART_PART_HEADERS', 'MULTIPART_SEMICOLON_MISSING',
  'MULTIPART_STRICT_ERROR', 'MULTIPART_UNMATCHED_BOUNDARY', 'OUTBOUND_DATA_ERROR', 'PATH_INFO', 'QUERY_STRING', 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_PORT', 'REMOTE_USER',
  'REQBODY_ERROR', 'REQBODY_ERROR_MSG', 'REQBODY_PROCESSOR', 'REQBODY_PROCESSOR_ERROR', 'REQBODY_PROCESSOR_ERROR_MSG', 'REQUEST_BASENAME', 'REQUEST_BODY', 'REQUEST_BODY_LENGTH', 'REQUEST_COOKIES', 'REQUEST_COOKIES_NAMES',
  'REQUEST_FILENAME', 'REQUEST_HEADERS', 'REQUEST_HEADERS_NAMES', 'REQUEST_LINE', 'REQUEST_METHOD', 'REQUEST_PROTOCOL', 'REQUEST_URI', 'REQUEST_URI_RAW', 'RESOURCE',
  'RESPONSE_BODY', 'RESPONSE_CONTENT_LENGTH', 'RESPONSE_CONTENT_TYPE', 'RESPONSE_HEADERS', 'RESPONSE_HEADERS_NAMES', 'RESPONSE_PROTOCOL', 'RESPONSE_STATUS', 'RULE',
  'SERVER_ADDR', 'SERVER_NAME', 'SERVER_PORT', 'SESSION', 'SESSIONID', 'STATUS_LINE', 'TIME', 'TIME_DAY', 'TIME_EPOCH', 'TIME_HOUR', 'TIME_MIN', 'TIME_MON', 'TIME_SEC', 'TIME_WDAY', 'TIME_YEAR',
  'TX', 'UNIQUE_ID', 'URLENCODED_ERROR', 'USER', 'USERID', 'WEBAPPID', 'WEBSERVER_ERROR_LOG', 'XML',
]);
const KNOWN_VARIABLE_NAMES = new Map([...KNOWN_VARIABLES].map((n) => [n, n]));

const IGNORED_ACTIONS = new Set(['ver', 'rev', 'maturity', 'accuracy', 'auditlog', 'noauditlog', 'sanitisematched', 'sanitiseArg', 'sanitizematched', 'expirevar', 'initcol', 'setenv', 'setuid', 'setsid', 'deprecatevar', 'exec', 'append', 'prepend', 'xmlns', 'sanitizearg', 'sanitiserequestheader', 'sanitiseresponseheader']);

/**
 * Compiles SecLang sources into a RuleSet. Every problem becomes a diagnostic with
 * file:line:column; any error refuses the whole set.
 */
export class RuleSetBuilder {
  readonly diagnostics: Diagnostic[] = [];
  readonly config: EngineConfig;
  private readonly entries: RuleEntry[] = [];
  private readonly defaults = new Map<number, DefaultActions>();
  private readonly regexes = new RegexCache();
  private readonly ids = new Set<number>();
  private readonly transformPrefixIds = new Map<string, number>();
  private pendingChainParent: Rule | null = null;
  private includeDepth = 0;

  constructor(private readonly options: LoadOptions = {}) {
    this.config = { ...defaultEngineConfig(), ...options.config };
  }

  private error(code: string, message: string, pos: Position | undefined): void {
    this.diagnostics.push({ code, message, severity: 'error', ...(pos ?? {}) });
  }

  addSource(src: RuleSource): void {
    const directives = parseDirectives(src.text, src.name, this.diagnostics);
    const engine = src.regexEngine ?? this.options.regexEngine ?? 'auto';
    for (const d of directives) this.directive(d, src, engine);
  }

  private directive(d: Directive, src: RuleSource, engine: RegexEngine): void {
    const name = d.name.toLowerCase();
    const arg = (i: number) => d.args[i];
    const need = (n: number): boolean => {
      if (d.args.length < n) {
        this.error('SECLANG_MISSING_ARGUMENT', `${d.name} needs ${n} argument(s)`, d.pos);
        return false;
      }
      return true;
    };
    const onOff = (a: DirectiveArg | undefined): boolean | undefined => {
      const v = a?.value.toLowerCase();
      if (v === 'on') return true;
      if (v === 'off') return false;
      this.error('SECLANG_BAD_VALUE', `${d.name} takes On or Off`, a?.pos ?? d.pos);
      return undefined;
    };
    if (this.pendingChainParent && name !== 'secrule') {
      this.error('SECLANG_CHAIN_INCOMPLETE', 'rule with chain action is not followed by a SecRule', this.pendingChainParent.pos);
      this.pendingChainParent = null;
    }
    switch (name) {
      case 'secrule':
        if (need(2)) this.rule(d, src, engine, false);
        return;
      case 'secaction':
        if (need(1)) this.rule(d, src, engine, true);
        return;
      case 'secmarker':
        if (need(1)) this.entries.push({ marker: arg(0)!.value, pos: d.pos });
        return;
      case 'secdefaultaction': {
        if (!need(1)) return;
        const { actions, error } = splitActions(arg(0)!.value);
        if (error) return this.error('SECLANG_BAD_ACTION', error.message, arg(0)!.at(error.offset));
        const phaseAct = actions.find((a) => a.name.toLowerCase() === 'phase');
        const phase = phaseAct ? parsePhase(phaseAct.value ?? '') : 2;
        if (phase === null) return this.error('SECLANG_BAD_PHASE', `bad phase ${phaseAct?.value}`, arg(0)!.pos);
        this.defaults.set(phase, { raw: actions.filter((a) => a.name.toLowerCase() !== 'phase'), arg: arg(0)! });
        return;
      }
      case 'secruleengine': {
        if (!need(1)) return;
        const v = arg(0)!.value.toLowerCase();
        const mode = v === 'on' ? 'On' : v === 'off' ? 'Off' : v === 'detectiononly' ? 'DetectionOnly' : null;
        if (!mode) return this.error('SECLANG_BAD_VALUE', 'SecRuleEngine takes On, Off or DetectionOnly', arg(0)!.pos);
        this.config.ruleEngine = mode;
        return;
      }
      case 'secrequestbodyaccess': {
        const v = onOff(arg(0));
        if (v !== undefined) this.config.requestBodyAccess = v;
        return;
      }
      case 'secresponsebodyaccess': {
        const v = onOff(arg(0));
        if (v !== undefined) this.config.responseBodyAccess = v;
        return;
      }
      case 'secrequestbodylimit':
      case 'secrequestbodynofileslimit':
      case 'secresponsebodylimit':
      case 'secargumentslimit':
      case 'secrequestbodyinmemorylimit':
      case 'secrequestbodyjsondepthlimit': {
        if (!need(1)) return;
        const n = Number(arg(0)!.value);
        if (!Number.isInteger(n) || n < 0) return this.error('SECLANG_BAD_VALUE', `${d.name} takes a byte count`, arg(0)!.pos);
        if (name === 'secrequestbodylimit') this.config.requestBodyLimit = n;
        else if (name === 'secrequestbodynofileslimit') this.config.requestBodyNoFilesLimit = n;
        else if (name === 'secresponsebodylimit') this.config.responseBodyLimit = n;
        else if (name === 'secargumentslimit') this.config.argumentsLimit = n;
        return;
      }
      case 'secrequestbodylimitaction':
      case 'secresponsebodylimitaction': {
        if (!need(1)) return;
        const v = arg(0)!.value.toLowerCase();
        const a = v === 'reject' ? 'Reject' : v === 'processpartial' ? 'ProcessPartial' : null;
        if (!a) return this.error('SECLANG_BAD_VALUE', `${d.name} takes Reject or ProcessPartial`, arg(0)!.pos);
        if (name === 'secrequestbodylimitaction') this.config.requestBodyLimitAction = a;
        else this.config.responseBodyLimitAction = a;
        return;
      }
      case 'secresponsebodymimetype':
        this.config.responseBodyMimeTypes = d.args.flatMap((a) => a.value.split(/\s+/)).filter((s) => s !== '').map((s) => s.toLowerCase());
        return;
      case 'secresponsebodymimetypesclear':
        this.config.responseBodyMimeTypes = [];
        return;
      case 'seccomponentsignature':
        if (need(1)) this.config.componentSignatures.push(arg(0)!.value);
        return;
      case 'secruleremovebyid': {
        for (const a of d.args) {
          const ranges = parseIdRanges(a.value);
          if (!ranges) return this.error('SECLANG_BAD_VALUE', `bad rule id or range "${a.value}"`, a.pos);
          this.removeWhere((r) => idInRanges(r.id, ranges));
        }
        return;
      }
      case 'secruleremovebytag':
      case 'secruleremovebymsg': {
        if (!need(1)) return;
        const re = this.safeRegex(arg(0)!.value, engine, arg(0)!.pos);
        if (!re) return;
        this.removeWhere((r) => (name === 'secruleremovebytag' ? r.tags.some((t) => re.test(t)) : re.test(r.msg ?? '')));
        return;
      }
      case 'secruleupdatetargetbyid':
      case 'secruleupdatetargetbytag':
      case 'secruleupdatetargetbymsg': {
        if (!need(2)) return;
        if (d.args.length > 2) return this.error('SECLANG_UNSUPPORTED', `${d.name} with a replacement target is not supported`, d.args[2]!.pos);
        const parsed = this.parseVariables(arg(1)!, engine);
        if (!parsed) return;
        let match: (r: Rule) => boolean;
        if (name === 'secruleupdatetargetbyid') {
          const ranges = parseIdRanges(arg(0)!.value);
          if (!ranges) return this.error('SECLANG_BAD_VALUE', `bad rule id or range "${arg(0)!.value}"`, arg(0)!.pos);
          match = (r) => idInRanges(r.id, ranges);
        } else {
          const re = this.safeRegex(arg(0)!.value, engine, arg(0)!.pos);
          if (!re) return;
          match = name === 'secruleupdatetargetbytag' ? (r) => r.tags.some((t) => re.test(t)) : (r) => re.test(r.msg ?? '');
        }
        for (const e of this.entries) {
          if (isMarker(e) || !match(e)) continue;
          e.variables.push(...parsed.variables);
          e.exclusions.push(...parsed.exclusions);
        }
        return;
      }
      case 'include': {
        if (!need(1)) return;
        this.include(arg(0)!, src, engine);
        return;
      }
      // Directives that configure logging, storage or the host server: accepted, no effect here.
      case 'secauditengine':
      case 'secauditlog':
      case 'secauditlog2':
      case 'secauditlogparts':
      case 'secauditlogrelevantstatus':
      case 'secauditlogtype':
      case 'secauditlogstoragedir':
      case 'secauditlogdirmode':
      case 'secauditlogfilemode':
      case 'secauditlogformat':
      case 'secdebuglog':
      case 'secdebugloglevel':
      case 'sectmpdir':
      case 'secdatadir':
      case 'secuploaddir':
      case 'secuploadfilemode':
      case 'secuploadkeepfiles':
      case 'sectmpsaverequestbody':
      case 'secpcrematchlimit':
      case 'secpcrematchlimitrecursion':
      case 'seccollectiontimeout':
      case 'secunicodemapfile':
      case 'secargumentseparator':
      case 'seccookieformat':
      case 'secstatusengine':
      case 'secserversignature':
      case 'secwebappid':
      case 'secgeolookupdb':
      case 'sechttpblkey':
      case 'secuploadfilelimit':
      case 'secrequestbodyjsondepthlimit2':
        return;
      default:
        this.error('SECLANG_UNKNOWN_DIRECTIVE', `unknown directive ${d.name}`, d.pos);
    }
  }

  private include(a: DirectiveArg, src: RuleSource, engine: RegexEngine): void {
    const readFile = this.options.readFile;
    if (!readFile) return this.error('SECLANG_INCLUDE_UNAVAILABLE', 'Include needs a file reader (none was given to the loader)', a.pos);
    if (this.includeDepth > 20) return this.error('SECLANG_INCLUDE_DEPTH', 'Include nested too deeply (loop?)', a.pos);
    const target = resolvePath(dirname(src.name), a.value);
    let files: string[];
    if (/[*?[]/.test(target)) {
      if (!this.options.glob) return this.error('SECLANG_INCLUDE_UNAVAILABLE', 'Include with a glob needs a glob function', a.pos);
      files = this.options.glob(target);
      if (files.length === 0) return this.error('SECLANG_INCLUDE_NOT_FOUND', `no file matches ${a.value}`, a.pos);
    } else files = [target];
    for (const f of files) {
      const text = readFile(f);
      if (text === undefined) {
        this.error('SECLANG_INCLUDE_NOT_FOUND', `cannot read included file ${f}`, a.pos);
        continue;
      }
      this.includeDepth++;
      this.addSource({ name: f, text, regexEngine: engine });
      this.includeDepth--;
    }
  }

  private removeWhere(pred: (r: Rule) => boolean): void {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (!isMarker(e) && pred(e)) this.entries.splice(i, 1);
    }
  }

  private safeRegex(pattern: string, engine: RegexEngine, pos: Position) {
    try {
      return this.regexes.compile(pattern, engine);
    } catch (err) {
      this.error('SECLANG_BAD_REGEX', `${(err as Error).message} in /${pattern}/`, pos);
      return null;
    }
  }

  parseVariables(a: DirectiveArg, engine: RegexEngine): { variables: VariableSpec[]; exclusions: TargetExclusion[] } | null {
    const s = a.value;
    const variables: VariableSpec[] = [];
    const exclusions: TargetExclusion[] = [];
    let i = 0;
    let ok = true;
    while (i < s.length) {
      let neg = false;
      let count = false;
      if (s[i] === '!') {
        neg = true;
        i++;
      } else if (s[i] === '&') {
        count = true;
        i++;
      }
      const ns = i;
      while (i < s.length && /[A-Za-z0-9_]/.test(s[i]!)) i++;
      // The table's own string: internalized, so the engine's name comparisons and lookups are cheap.
      const name = KNOWN_VARIABLE_NAMES.get(s.slice(ns, i).toUpperCase()) ?? s.slice(ns, i).toUpperCase();
      if (!KNOWN_VARIABLES.has(name)) {
        this.error('SECLANG_UNKNOWN_VARIABLE', `unknown variable ${s.slice(ns, i) || s.slice(ns, ns + 10)}`, a.at(ns));
        ok = false;
        while (i < s.length && s[i] !== '|') i++;
        i++;
        continue;
      }
      let key: string | undefined;
      let keyRegex;
      if (s[i] === ':' || s[i] === '.') {
        i++;
        if (name === 'XML') {
          // XPath (XML:/*, XML://@*): up to the next '|'
          const ks = i;
          while (i < s.length && s[i] !== '|') i++;
          key = s.slice(ks, i);
        } else if (s[i] === '/') {
          // Regex key: up to the next unescaped '/'
          let j = i + 1;
          while (j < s.length && s[j] !== '/') j += s[j] === '\\' ? 2 : 1;
          if (j >= s.length) {
            this.error('SECLANG_BAD_VARIABLE', 'unterminated /regex/ key', a.at(i));
            return null;
          }
          // Key regexes are case-insensitive in ModSecurity (collection keys are).
          const re = this.safeRegex(`(?i)${s.slice(i + 1, j)}`, engine, a.at(i));
          if (!re) ok = false;
          else keyRegex = re;
          i = j + 1;
        } else if (s[i] === "'") {
          const end = s.indexOf("'", i + 1);
          if (end < 0) {
            this.error('SECLANG_BAD_VARIABLE', 'unterminated quoted key', a.at(i));
            return null;
          }
          key = s.slice(i + 1, end);
          i = end + 1;
        } else {
          const ks = i;
          while (i < s.length && s[i] !== '|') i++;
          key = s.slice(ks, i);
        }
      }
      if (i < s.length && s[i] !== '|') {
        this.error('SECLANG_BAD_VARIABLE', `unexpected "${s[i]}" in variable list`, a.at(i));
        return null;
      }
      i++;
      const lkey = key === undefined ? undefined : name === 'XML' ? key : key.toLowerCase();
      // One shape per kind (key and keyRegex always present) keeps the engine's reads monomorphic.
      if (neg) exclusions.push({ name, key: lkey, keyRegex });
      else variables.push({ name, count, key: lkey, keyRegex });
    }
    return ok ? { variables, exclusions } : null;
  }

  private rule(d: Directive, src: RuleSource, engine: RegexEngine, isAction: boolean): void {
    const actionsArg = isAction ? d.args[0] : d.args[2];
    let vars: { variables: VariableSpec[]; exclusions: TargetExclusion[] } | null = { variables: [], exclusions: [] };
    let opName = 'unconditionalMatch';
    let opParam = '';
    let negated = false;
    let opArg: DirectiveArg | undefined;
    if (!isAction) {
      vars = this.parseVariables(d.args[0]!, engine);
      opArg = d.args[1]!;
      let o = opArg.value;
      if (o.startsWith('!')) {
        negated = true;
        o = o.slice(1);
      }
      if (o.startsWith('@')) {
        const m = /^@([A-Za-z0-9]+)\s*/.exec(o);
        opName = m?.[1] ?? '';
        opParam = o.slice(m?.[0].length ?? 1);
      } else {
        opName = 'rx';
        opParam = o;
      }
    }
    const parent = this.pendingChainParent;
    this.pendingChainParent = null;
    const { actions: raw, error } = actionsArg ? splitActions(actionsArg.value) : { actions: [] as RawAction[], error: undefined };
    if (error && actionsArg) return this.error('SECLANG_BAD_ACTION', error.message, actionsArg.at(error.offset));
    // Phase first: defaults depend on it.
    const phaseRaw = raw.find((a) => a.name.toLowerCase() === 'phase');
    let phase = parent ? parent.phase : 2;
    if (phaseRaw) {
      const p = parsePhase(phaseRaw.value ?? '');
      if (p === null) return this.error('SECLANG_BAD_PHASE', `bad phase "${phaseRaw.value}"`, actionsArg!.at(phaseRaw.offset));
      if (parent) this.error('SECLANG_BAD_ACTION', 'phase is not allowed in a chained rule', actionsArg!.at(phaseRaw.offset));
      phase = p;
    }
    const rule: Rule = {
      id: 0,
      phase,
      variables: vars?.variables ?? [],
      exclusions: vars?.exclusions ?? [],
      operator: { name: opName, evaluate: () => ({ matched: false }) },
      operatorName: opName,
      operatorParam: opParam,
      negated,
      transforms: [],
      transformKeys: [],
      transformIds: [],
      tags: [],
      setvars: [],
      ctls: [],
      capture: false,
      multiMatch: false,
      log: true,
      auditlog: true,
      disruptive: 'pass',
      blockAction: 'pass',
      unconditional: isAction,
      pos: d.pos,
      source: src.name,
      // Every optional field exists from the start, so all rules share one hidden class and the
      // engine's per-rule property reads stay monomorphic (actions only assign them).
      msg: undefined,
      logdata: undefined,
      severity: undefined,
      ver: undefined,
      allowScope: undefined,
      status: undefined,
      redirectUrl: undefined,
      skipAfter: undefined,
      skip: undefined,
      chained: undefined,
      targetFilters: undefined,
    };
    // Defaults of the phase apply to chain starters only; chained rules inherit nothing but phase.
    const def = parent ? undefined : this.defaults.get(phase);
    let ok = vars !== null;
    const apply = (list: RawAction[], at: (off: number) => Position, fromDefault: boolean) => {
      for (const a of list) if (!this.action(rule, a, at(a.offset), engine, fromDefault, !!parent)) ok = false;
    };
    if (def) apply(def.raw, (o) => def.arg.at(o), true);
    if (actionsArg) apply(raw, (o) => actionsArg.at(o), false);
    if (!parent) {
      if (rule.id === 0) {
        this.error('SECLANG_MISSING_ID', 'rule has no id action', d.pos);
        ok = false;
      }
    }
    if (rule.id !== 0 && !parent) {
      if (this.ids.has(rule.id)) {
        this.error('SECLANG_DUPLICATE_ID', `duplicate rule id ${rule.id}`, d.pos);
        ok = false;
      }
      this.ids.add(rule.id);
    }
    if (parent) rule.id = parent.id;
    rule.transformKeys = rule.transforms.map((_, i) => rule.transforms.slice(0, i + 1).map((t) => t.name).join(','));
    rule.transformIds = rule.transformKeys.map((k) => {
      let id = this.transformPrefixIds.get(k);
      if (id === undefined) {
        id = this.transformPrefixIds.size;
        this.transformPrefixIds.set(k, id);
      }
      return id;
    });
    if (!isAction) {
      try {
        rule.operator = createOperator(opName, opParam, {
          regexes: this.regexes,
          engine,
          readDataFile: (p) => this.options.readFile?.(resolvePath(dirname(src.name), p)),
        });
      } catch (err) {
        const code = err instanceof UnknownOperatorError ? 'SECLANG_UNKNOWN_OPERATOR' : err instanceof RegexSyntaxError ? 'SECLANG_BAD_REGEX' : 'SECLANG_BAD_OPERATOR';
        this.error(code, `${(err as Error).message}`, opArg!.pos);
        ok = false;
      }
    }
    if (!ok) return;
    if (parent) {
      let tail = parent;
      while (tail.chained) tail = tail.chained;
      tail.chained = rule;
    } else this.entries.push(rule);
    if ((rule as Rule & { __chain?: boolean }).__chain) {
      delete (rule as Rule & { __chain?: boolean }).__chain;
      this.pendingChainParent = parent ?? rule;
    }
  }

  private action(rule: Rule, a: RawAction, pos: Position, engine: RegexEngine, fromDefault: boolean, inChain: boolean): boolean {
    const name = a.name.toLowerCase();
    const v = a.value ?? '';
    const bad = (msg: string) => {
      this.error('SECLANG_BAD_ACTION', msg, pos);
      return false;
    };
    switch (name) {
      case 'id': {
        if (fromDefault) return bad('id is not allowed in SecDefaultAction');
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0) return bad(`bad rule id "${v}"`);
        if (inChain) return bad('id is not allowed in a chained rule');
        rule.id = n;
        return true;
      }
      case 'phase':
        return true;
      case 'msg':
        rule.msg = v;
        return true;
      case 'logdata':
        rule.logdata = v;
        return true;
      case 'tag':
        rule.tags.push(v);
        return true;
      case 'severity':
        rule.severity = v;
        return true;
      case 'ver':
        rule.ver = v;
        return true;
      case 't': {
        if (v.toLowerCase() === 'none') {
          rule.transforms = [];
          return true;
        }
        const fn = TRANSFORMATIONS[v.toLowerCase()];
        if (!fn) {
          this.error('SECLANG_UNKNOWN_TRANSFORMATION', `unknown transformation t:${v}`, pos);
          return false;
        }
        rule.transforms.push({ name: v.toLowerCase(), fn });
        return true;
      }
      case 'chain':
        (rule as Rule & { __chain?: boolean }).__chain = true;
        return true;
      case 'capture':
        rule.capture = true;
        return true;
      case 'multimatch':
        rule.multiMatch = true;
        return true;
      case 'log':
        rule.log = true;
        return true;
      case 'nolog':
        rule.log = false;
        rule.auditlog = false;
        return true;
      case 'auditlog':
        rule.auditlog = true;
        return true;
      case 'noauditlog':
        rule.auditlog = false;
        return true;
      case 'pass':
      case 'block':
      case 'deny':
      case 'drop':
        rule.disruptive = name as Disruptive;
        if (fromDefault && name !== 'block') rule.blockAction = name as Disruptive;
        return true;
      case 'allow':
        rule.disruptive = 'allow';
        rule.allowScope = v === '' ? 'all' : v.toLowerCase() === 'phase' ? 'phase' : v.toLowerCase() === 'request' ? 'request' : 'all';
        return true;
      case 'redirect':
        rule.disruptive = 'redirect';
        rule.redirectUrl = v;
        return true;
      case 'status': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 100 || n > 599) return bad(`bad status "${v}"`);
        rule.status = n;
        return true;
      }
      case 'skipafter':
        rule.skipAfter = v;
        return true;
      case 'skip': {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) return bad(`bad skip count "${v}"`);
        rule.skip = n;
        return true;
      }
      case 'setvar': {
        const sv = parseSetVar(v);
        if (!sv) return bad(`bad setvar "${v}"`);
        rule.setvars.push(sv);
        return true;
      }
      case 'ctl': {
        const c = this.parseCtl(v, pos, engine);
        if (!c) return false;
        rule.ctls.push(c);
        return true;
      }
      default:
        if (IGNORED_ACTIONS.has(name) || IGNORED_ACTIONS.has(a.name)) return true;
        this.error('SECLANG_UNKNOWN_ACTION', `unknown action ${a.name}`, pos);
        return false;
    }
  }

  private parseCtl(v: string, pos: Position, engine: RegexEngine): CtlAction | null {
    const eq = v.indexOf('=');
    if (eq < 0) {
      this.error('SECLANG_BAD_ACTION', `ctl needs name=value: "${v}"`, pos);
      return null;
    }
    const name = v.slice(0, eq).trim();
    const value = v.slice(eq + 1).trim();
    const bool = (): boolean | null => (value.toLowerCase() === 'on' ? true : value.toLowerCase() === 'off' ? false : null);
    const target = (spec: string): TargetExclusion | null => {
      const fake: DirectiveArg = { value: spec, pos, at: () => pos };
      const parsed = this.parseVariables(fake, engine);
      if (!parsed || parsed.variables.length !== 1) {
        this.error('SECLANG_BAD_ACTION', `bad ctl target "${spec}"`, pos);
        return null;
      }
      const t = parsed.variables[0]!;
      return { name: t.name, key: t.key, keyRegex: t.keyRegex };
    };
    switch (name.toLowerCase()) {
      case 'ruleengine': {
        const m = value.toLowerCase();
        const mode = m === 'on' ? 'On' : m === 'off' ? 'Off' : m === 'detectiononly' ? 'DetectionOnly' : null;
        if (!mode) break;
        return { kind: 'ruleEngine', value: mode };
      }
      case 'requestbodyprocessor':
        return { kind: 'requestBodyProcessor', value: value.toUpperCase() };
      case 'forcerequestbodyvariable': {
        const b = bool();
        if (b === null) break;
        return { kind: 'forceRequestBodyVariable', value: b };
      }
      case 'requestbodyaccess': {
        const b = bool();
        if (b === null) break;
        return { kind: 'requestBodyAccess', value: b };
      }
      case 'responsebodyaccess': {
        const b = bool();
        if (b === null) break;
        return { kind: 'responseBodyAccess', value: b };
      }
      case 'ruleremovebyid': {
        const ranges = parseIdRanges(value);
        if (!ranges) break;
        return { kind: 'ruleRemoveById', ranges };
      }
      case 'ruleremovebytag':
        return { kind: 'ruleRemoveByTag', tag: value };
      case 'ruleremovetargetbyid': {
        const semi = value.indexOf(';');
        if (semi < 0) break;
        const ranges = parseIdRanges(value.slice(0, semi));
        const t = target(value.slice(semi + 1));
        if (!ranges || !t) break;
        return { kind: 'ruleRemoveTargetById', ranges, target: t };
      }
      case 'ruleremovetargetbytag': {
        const semi = value.indexOf(';');
        if (semi < 0) break;
        const t = target(value.slice(semi + 1));
        if (!t) break;
        return { kind: 'ruleRemoveTargetByTag', tag: value.slice(0, semi), target: t };
      }
      case 'auditengine':
      case 'auditlogparts':
      case 'debugloglevel':
      case 'requestbodylimit':
      case 'hashengine':
        return { kind: 'ignored', name };
      default:
        this.error('SECLANG_BAD_ACTION', `unknown ctl ${name}`, pos);
        return null;
    }
    this.error('SECLANG_BAD_ACTION', `bad value for ctl:${name}: "${value}"`, pos);
    return null;
  }

  build(): LoadResult<RuleSet> {
    if (this.pendingChainParent) {
      this.error('SECLANG_CHAIN_INCOMPLETE', 'rule with chain action is not followed by a SecRule', this.pendingChainParent.pos);
      this.pendingChainParent = null;
    }
    const phases: RuleEntry[][] = [[], [], [], [], [], []];
    const rules: Rule[] = [];
    for (const e of this.entries) {
      if (isMarker(e)) for (let p = 1; p <= 5; p++) phases[p]!.push(e);
      else {
        phases[e.phase]!.push(e);
        rules.push(e);
      }
    }
    return loadResult<RuleSet>({ config: this.config, phases, rules, ruleCount: rules.length }, this.diagnostics);
  }
}

function parsePhase(v: string): number | null {
  const l = v.toLowerCase();
  if (l === 'request') return 2;
  if (l === 'response') return 4;
  if (l === 'logging') return 5;
  const n = Number(v);
  return Number.isInteger(n) && n >= 1 && n <= 5 ? n : null;
}

function parseSetVar(v: string): SetVarAction | null {
  let s = v.trim();
  let del = false;
  if (s.startsWith('!')) {
    del = true;
    s = s.slice(1);
  }
  const eq = s.indexOf('=');
  const lhs = eq < 0 ? s : s.slice(0, eq);
  const dot = lhs.indexOf('.');
  if (dot <= 0) return null;
  const collection = lhs.slice(0, dot).toUpperCase();
  const key = lhs.slice(dot + 1);
  if (key === '') return null;
  if (del) return { collection, key, op: 'delete', value: '' };
  if (eq < 0) return { collection, key, op: '=', value: '1' };
  let value = s.slice(eq + 1);
  let op: SetVarAction['op'] = '=';
  if (value.startsWith('+')) {
    op = '+';
    value = value.slice(1);
  } else if (value.startsWith('-')) {
    op = '-';
    value = value.slice(1);
  }
  return { collection, key, op, value };
}

/** Loads SecLang sources all-or-nothing. */
export function loadRuleSet(sources: readonly RuleSource[], options: LoadOptions = {}): LoadResult<RuleSet> {
  const b = new RuleSetBuilder(options);
  for (const s of sources) b.addSource(s);
  return b.build();
}
