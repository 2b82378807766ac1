import { parseJson, parseMultipart, parseUrlEncoded, parseXml } from './body-processors.ts';
import { idInRanges, type RuleEngineMode, type RuleSet } from './rule-set.ts';
import { type CtlAction, isMarker, type Rule, type RuleEntry, type TargetExclusion, type VariableSpec } from './rule.ts';
import { percentDecode } from './transformations.ts';

/** Why the transaction must stop, and which rule decided it. */
export interface Interruption {
  action: 'deny' | 'drop' | 'redirect' | 'allow';
  status: number;
  ruleId: number;
  phase: number;
  redirectUrl?: string;
}

export interface MatchedVariable {
  name: string;
  value: string;
}

export interface MatchedRule {
  id: number;
  phase: number;
  msg: string;
  logdata: string;
  tags: readonly string[];
  severity?: string;
  /** false for `nolog` rules: they matched but would not be written to the log. */
  log: boolean;
  disruptive: string;
  matchedVariables: MatchedVariable[];
}

export interface TransactionOptions {
  /** UNIQUE_ID; the engine does not invent one (it has no clock or randomness). */
  id?: string;
}

/**
 * Transformation results of one distinct value in a transaction, indexed by the rule set's
 * interned transformation-chain prefix ids (`Rule.transformIds`).
 */
type TransformSlot = (string | undefined)[];

/** One member of a collection; `name` is the full `COLLECTION:key` rules see as MATCHED_VAR_NAME. */
interface Entry {
  name: string;
  key: string;
  lkey: string;
  value: string;
  /** The value's transformation cache, attached on first use (shared by entries with equal values). */
  slot: TransformSlot | undefined;
}

function entry(name: string, key: string, lkey: string, value: string): Entry {
  return { name, key, lkey, value, slot: undefined };
}

/**
 * For each rule with skipAfter, the index where evaluation resumes (the marker, or the rule
 * whose id is the target; the end of the phase when there is none), so skipping costs nothing
 * per skipped rule. Computed once per phase list.
 */
const skipTables = new WeakMap<readonly RuleEntry[], Int32Array>();

function skipTable(entries: readonly RuleEntry[]): Int32Array {
  let t = skipTables.get(entries);
  if (t) return t;
  t = new Int32Array(entries.length).fill(-1);
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (isMarker(e) || !e.skipAfter) continue;
    const target = e.skipAfter;
    let j = i + 1;
    for (; j < entries.length; j++) {
      const x = entries[j]!;
      if (isMarker(x) ? x.marker === target : String(x.id) === target) break;
    }
    t[i] = j;
  }
  skipTables.set(entries, t);
  return t;
}

/** Text from the caller is UTF-8; rules see bytes, one char per byte, as ModSecurity does. */
export function toByteString(input: string | Uint8Array): string {
  if (typeof input === 'string') {
    // Fast path: pure ASCII needs no re-encoding.
    // biome-ignore lint/suspicious/noControlCharactersInRegex: byte range check
    if (!/[^\x00-\x7f]/.test(input)) return input;
    return Buffer.from(input, 'utf8').toString('latin1');
  }
  return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('latin1');
}

const NO_ENTRIES: Entry[] = [];

/**
 * Which members of a collection one target of one rule selects depends only on the target's
 * key or key regex and the rule's exclusions of that collection (CRS's
 * `REQUEST_COOKIES|!REQUEST_COOKIES:/__utm/` on ~100 rules). Each distinct combination gets a
 * small id, interned across rule sets, so a transaction filters a collection once per
 * combination instead of once per rule. Per rule (`Rule.targetFilters`): the id of each of its
 * targets (-1 when the target is read unfiltered or not from `cols`), recomputed if the rule's
 * lists change.
 */
const filterIdByKey = new Map<string, number>();

function regexKey(re: { source: string } | undefined): string {
  return re ? `${re.constructor.name}/${re.source}` : '';
}

function filterIds(rule: Rule): Int32Array {
  let f = rule.targetFilters;
  if (f && f.nVars === rule.variables.length && f.nEx === rule.exclusions.length) return f.ids;
  const ids = new Int32Array(rule.variables.length).fill(-1);
  for (let i = 0; i < rule.variables.length; i++) {
    const spec = rule.variables[i]!;
    if (spec.name === 'TX' || spec.name.startsWith('MATCHED_VAR') || spec.name === 'XML') continue;
    let k = `${spec.name}\0${spec.key ?? ''}\0${regexKey(spec.keyRegex)}`;
    let filtered = spec.key !== undefined || !!spec.keyRegex;
    for (const x of rule.exclusions) {
      if (x.name !== spec.name) continue;
      filtered = true;
      k += `\0!${x.key ?? ''}\0${regexKey(x.keyRegex)}`;
    }
    if (!filtered) continue;
    let id = filterIdByKey.get(k);
    if (id === undefined) {
      id = filterIdByKey.size;
      filterIdByKey.set(k, id);
    }
    ids[i] = id;
  }
  f = { nVars: rule.variables.length, nEx: rule.exclusions.length, ids };
  rule.targetFilters = f;
  return ids;
}

/** A filtered collection, valid while the collection is the same array with the same length. */
interface Filtered {
  src: Entry[];
  len: number;
  out: Entry[];
}

/** One `%{…}` reference of a macro string, with the target spec it reads, built once. */
interface MacroRef {
  name: string;
  /** RULE.x: the lower-cased x. */
  ruleKey: string;
  spec: VariableSpec;
}

/**
 * Macro strings split into literal text and references, once per distinct string (they come
 * from rules: msg, logdata, setvar keys and values), so expanding one is a concatenation.
 */
const macroCache = new Map<string, (string | MacroRef)[]>();
const MACRO_CACHE_MAX = 50_000;

function parseMacros(s: string): (string | MacroRef)[] {
  let parts = macroCache.get(s);
  if (parts) return parts;
  parts = [];
  const re = /%\{([^}]+)\}/g;
  let last = 0;
  for (let m = re.exec(s); m; m = re.exec(s)) {
    if (m.index > last) parts.push(s.slice(last, m.index));
    const ref = m[1]!;
    const dot = ref.indexOf('.');
    const name = (dot < 0 ? ref : ref.slice(0, dot)).toUpperCase();
    const key = dot < 0 ? undefined : ref.slice(dot + 1);
    parts.push({
      name,
      ruleKey: (key ?? '').toLowerCase(),
      spec: { name, count: false, key: key?.toLowerCase(), keyRegex: undefined },
    });
    last = re.lastIndex;
  }
  if (last < s.length) parts.push(s.slice(last));
  if (macroCache.size >= MACRO_CACHE_MAX) macroCache.clear();
  macroCache.set(s, parts);
  return parts;
}

/**
 * One HTTP transaction through a RuleSet: feed the request (and optionally the response) in
 * order, read the interruption and matched rules. Not reusable across requests.
 */
export class Transaction {
  readonly matchedRules: MatchedRule[] = [];
  interruption: Interruption | null = null;

  private readonly cols = new Map<string, Entry[]>();
  private readonly tx = new Map<string, Entry>();
  private engine: RuleEngineMode;
  private reqBodyAccess: boolean;
  private respBodyAccess: boolean;
  private forceReqBodyVar = false;
  private reqBodyProcessor = '';
  private readonly requestHeaders: [string, string][] = [];
  private readonly responseHeaders: [string, string][] = [];
  private reqBody: string[] = [];
  private reqBodyLen = 0;
  private reqBodyTruncated = false;
  private respBody: string[] = [];
  private respBodyLen = 0;
  private readonly removedIds: [number, number][][] = [];
  private readonly removedTags: string[] = [];
  private readonly targetRemovals: { ranges?: [number, number][]; tag?: string; target: TargetExclusion }[] = [];
  /** Transformation caches of values that are not collection entries (MATCHED_VAR, XML…). */
  private readonly transformSlots = new Map<string, TransformSlot>();
  private matchedVar: MatchedVariable | null = null;
  private matchedVars: MatchedVariable[] = [];
  private xml: { texts: string[]; attributes: string[] } | null = null;
  private phaseDone = 0;
  private allowedUntil = 0;
  private currentRule: Rule | null = null;
  // bind, not an arrow: tsx/esbuild's keepNames wraps named arrows in __name(), an
  // Object.defineProperty per transaction.
  private readonly expandFn: (s: string) => string = this.expand.bind(this);
  /** Filtered collections by filter id (see filterIds). */
  private readonly filtered: (Filtered | undefined)[] = [];

  constructor(
    readonly ruleSet: RuleSet,
    options: TransactionOptions = {},
  ) {
    const c = ruleSet.config;
    this.engine = c.ruleEngine;
    this.reqBodyAccess = c.requestBodyAccess;
    this.respBodyAccess = c.responseBodyAccess;
    this.setScalar('UNIQUE_ID', options.id ?? '');
    this.setScalar('DURATION', '0');
    this.setScalar('REQBODY_ERROR', '0');
    this.setScalar('REQBODY_PROCESSOR_ERROR', '0');
    this.setScalar('MULTIPART_STRICT_ERROR', '0');
    this.setScalar('MULTIPART_UNMATCHED_BOUNDARY', '0');
    this.setScalar('INBOUND_DATA_ERROR', '0');
    this.setScalar('OUTBOUND_DATA_ERROR', '0');
    this.setScalar('HIGHEST_SEVERITY', '255');
  }

  // ---- input ----

  private setScalar(name: string, value: string): void {
    this.cols.set(name, [entry(name, '', '', value)]);
  }

  private add(name: string, key: string, value: string): void {
    let list = this.cols.get(name);
    if (!list) {
      list = [];
      this.cols.set(name, list);
    }
    list.push(entry(`${name}:${key}`, key, key.toLowerCase(), value));
  }

  processConnection(clientAddr: string, clientPort = 0, serverAddr = '', serverPort = 0): void {
    this.setScalar('REMOTE_ADDR', clientAddr);
    this.setScalar('REMOTE_HOST', clientAddr);
    this.setScalar('REMOTE_PORT', String(clientPort));
    this.setScalar('SERVER_ADDR', serverAddr);
    this.setScalar('SERVER_PORT', String(serverPort));
  }

  processUri(uriInput: string | Uint8Array, methodInput: string, protocol = 'HTTP/1.1'): void {
    const uri = toByteString(uriInput);
    const method = toByteString(methodInput);
    this.setScalar('REQUEST_METHOD', method);
    this.setScalar('REQUEST_PROTOCOL', protocol);
    this.setScalar('REQUEST_URI_RAW', uri);
    this.setScalar('REQUEST_LINE', `${method} ${uri} ${protocol}`);
    let rel = uri;
    // Absolute-form request targets: rules see the path and query only in REQUEST_URI.
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(rel);
    if (abs) rel = rel.slice(abs[0].length) || '/';
    const hash = rel.indexOf('#');
    if (hash >= 0) rel = rel.slice(0, hash);
    this.setScalar('REQUEST_URI', rel);
    const q = rel.indexOf('?');
    const path = q < 0 ? rel : rel.slice(0, q);
    const query = q < 0 ? '' : rel.slice(q + 1);
    const filename = percentDecode(path);
    this.setScalar('REQUEST_FILENAME', filename);
    this.setScalar('PATH_INFO', filename);
    const slash = filename.lastIndexOf('/');
    this.setScalar('REQUEST_BASENAME', slash >= 0 ? filename.slice(slash + 1) : filename);
    this.setScalar('QUERY_STRING', query);
    const { pairs, invalidEncoding } = parseUrlEncoded(query);
    if (invalidEncoding) this.setScalar('URLENCODED_ERROR', '1');
    for (const [k, v] of pairs) this.addArg('GET', k, v);
  }

  private addArg(kind: 'GET' | 'POST', k: string, v: string): void {
    this.add('ARGS', k, v);
    this.add('ARGS_NAMES', k, k);
    // Literal (internalized) collection names: rules look them up by internalized names.
    if (kind === 'GET') {
      this.add('ARGS_GET', k, v);
      this.add('ARGS_GET_NAMES', k, k);
    } else {
      this.add('ARGS_POST', k, v);
      this.add('ARGS_POST_NAMES', k, k);
    }
  }

  addRequestHeader(nameInput: string, valueInput: string | Uint8Array): void {
    const name = toByteString(nameInput);
    const value = toByteString(valueInput);
    this.requestHeaders.push([name, value]);
    this.add('REQUEST_HEADERS', name, value);
    this.add('REQUEST_HEADERS_NAMES', name, name);
    if (name.toLowerCase() === 'cookie') {
      for (const part of value.split(';')) {
        const p = part.replace(/^[ \t]+/, '');
        if (p === '') continue;
        const eq = p.indexOf('=');
        const k = eq < 0 ? p : p.slice(0, eq);
        const v = eq < 0 ? '' : p.slice(eq + 1);
        this.add('REQUEST_COOKIES', k, v);
        this.add('REQUEST_COOKIES_NAMES', k, k);
      }
    }
  }

  private header(name: string, list = this.requestHeaders): string | undefined {
    const l = name.toLowerCase();
    for (const [k, v] of list) if (k.toLowerCase() === l) return v;
    return undefined;
  }

  /** Runs phase 1. */
  processRequestHeaders(): Interruption | null {
    const ct = (this.header('content-type') ?? '').toLowerCase();
    if (ct.startsWith('application/x-www-form-urlencoded')) this.reqBodyProcessor = 'URLENCODED';
    else if (ct.startsWith('multipart/form-data')) this.reqBodyProcessor = 'MULTIPART';
    this.setScalar('REQBODY_PROCESSOR', this.reqBodyProcessor);
    let size = 0;
    for (const [k, v] of this.requestHeaders) size += k.length + v.length + 4;
    this.setScalar('FULL_REQUEST_LENGTH', String(size));
    this.runPhase(1);
    return this.interruption;
  }

  /**
   * Buffers request body bytes up to SecRequestBodyLimit. Past the limit, `Reject` interrupts
   * with 413 (when the engine blocks) and `ProcessPartial` keeps only the first bytes.
   */
  appendRequestBody(chunk: string | Uint8Array): Interruption | null {
    if (this.interruption || !this.reqBodyAccess) return this.interruption;
    const bytes = toByteString(chunk);
    const limit = this.ruleSet.config.requestBodyLimit;
    if (this.reqBodyLen + bytes.length > limit) {
      if (this.ruleSet.config.requestBodyLimitAction === 'Reject' && this.engine === 'On') {
        this.interruption = { action: 'deny', status: 413, ruleId: 0, phase: 2 };
        return this.interruption;
      }
      const room = limit - this.reqBodyLen;
      if (room > 0) this.reqBody.push(bytes.slice(0, room));
      this.reqBodyLen = limit;
      this.reqBodyTruncated = true;
      this.setScalar('INBOUND_DATA_ERROR', '1');
      return null;
    }
    this.reqBody.push(bytes);
    this.reqBodyLen += bytes.length;
    return null;
  }

  private bodyError(msg: string): void {
    this.setScalar('REQBODY_ERROR', '1');
    this.setScalar('REQBODY_ERROR_MSG', msg);
    this.setScalar('REQBODY_PROCESSOR_ERROR', '1');
    this.setScalar('REQBODY_PROCESSOR_ERROR_MSG', msg);
  }

  /** Parses the buffered body with the selected processor, then runs phase 2. */
  processRequestBody(): Interruption | null {
    if (this.phaseDone < 1) this.processRequestHeaders();
    if (this.interruption) return this.interruption;
    const body = this.reqBody.length === 1 ? this.reqBody[0]! : this.reqBody.join('');
    this.reqBody = [body];
    this.setScalar('REQUEST_BODY_LENGTH', String(body.length));
    if (this.reqBodyAccess && body.length > 0) {
      const proc = this.reqBodyProcessor;
      const ct = this.header('content-type') ?? '';
      if (proc !== 'MULTIPART' && body.length > this.ruleSet.config.requestBodyNoFilesLimit) {
        if (this.ruleSet.config.requestBodyLimitAction === 'Reject' && this.engine === 'On') {
          this.interruption = { action: 'deny', status: 413, ruleId: 0, phase: 2 };
          return this.interruption;
        }
      }
      if (proc === 'URLENCODED') {
        const { pairs, invalidEncoding } = parseUrlEncoded(body);
        if (invalidEncoding) this.setScalar('URLENCODED_ERROR', '1');
        for (const [k, v] of pairs) this.addArg('POST', k, v);
      } else if (proc === 'JSON') {
        const r = parseJson(body);
        if (r.error) this.bodyError(r.error);
        for (const [k, v] of r.pairs) this.addArg('POST', k, v);
      } else if (proc === 'XML') {
        const r = parseXml(body);
        if (r.error) this.bodyError(r.error);
        else this.xml = r;
      } else if (proc === 'MULTIPART') {
        const r = parseMultipart(body, ct);
        for (const [k, v] of r.args) this.addArg('POST', k, v);
        for (const [k, v] of r.files) {
          this.add('FILES', k, v);
          this.add('FILES_NAMES', k, k);
        }
        for (const [k, v] of r.fileSizes) this.add('FILES_SIZES', k, v);
        for (const [k, v] of r.partHeaders) this.add('MULTIPART_PART_HEADERS', k, v);
        this.setScalar('FILES_COMBINED_SIZE', String(r.combinedFileSize));
        const f = r.flags;
        const flag = (n: string, v: boolean) => this.setScalar(n, v ? '1' : '0');
        flag('MULTIPART_BOUNDARY_QUOTED', f.boundaryQuoted);
        flag('MULTIPART_BOUNDARY_WHITESPACE', f.boundaryWhitespace);
        flag('MULTIPART_DATA_BEFORE', f.dataBefore);
        flag('MULTIPART_DATA_AFTER', f.dataAfter);
        flag('MULTIPART_HEADER_FOLDING', f.headerFolding);
        flag('MULTIPART_LF_LINE', f.lfLine);
        flag('MULTIPART_CRLF_LF_LINES', f.crlfLfLines);
        flag('MULTIPART_MISSING_SEMICOLON', f.missingSemicolon);
        flag('MULTIPART_SEMICOLON_MISSING', f.missingSemicolon);
        flag('MULTIPART_INVALID_QUOTING', f.invalidQuoting);
        flag('MULTIPART_INVALID_PART', f.invalidPart);
        flag('MULTIPART_INVALID_HEADER_FOLDING', f.invalidHeaderFolding);
        flag('MULTIPART_FILE_LIMIT_EXCEEDED', f.fileLimitExceeded);
        flag('MULTIPART_UNMATCHED_BOUNDARY', f.unmatchedBoundary);
        const strict = !!r.error || f.boundaryQuoted || f.boundaryWhitespace || f.dataBefore || f.dataAfter || f.headerFolding || f.lfLine || f.missingSemicolon || f.invalidQuoting || f.invalidPart || f.invalidHeaderFolding || f.fileLimitExceeded;
        flag('MULTIPART_STRICT_ERROR', strict);
        if (r.error) this.bodyError(r.error);
      }
      // REQUEST_BODY holds the raw body except for multipart and XML, whose content rules see
      // through ARGS/FILES and XML:/*: CRS 934210 looks for JSON keys in it, while the CRS 944
      // tests expect an XML document not to be scanned a second time as a flat body.
      if ((proc !== 'MULTIPART' && proc !== 'XML') || this.forceReqBodyVar) this.setScalar('REQUEST_BODY', body);
    }
    let argsSize = 0;
    for (const e of this.cols.get('ARGS') ?? NO_ENTRIES) argsSize += e.key.length + e.value.length;
    this.setScalar('ARGS_COMBINED_SIZE', String(argsSize));
    this.runPhase(2);
    return this.interruption;
  }

  addResponseHeader(nameInput: string, valueInput: string | Uint8Array): void {
    const name = toByteString(nameInput);
    const value = toByteString(valueInput);
    this.responseHeaders.push([name, value]);
    this.add('RESPONSE_HEADERS', name, value);
    this.add('RESPONSE_HEADERS_NAMES', name, name);
  }

  /** Runs phase 3. */
  processResponseHeaders(status: number, protocol = 'HTTP/1.1'): Interruption | null {
    if (this.phaseDone < 2) this.processRequestBody();
    if (this.interruption) return this.interruption;
    this.setScalar('RESPONSE_STATUS', String(status));
    this.setScalar('RESPONSE_PROTOCOL', protocol);
    this.setScalar('STATUS_LINE', `${protocol} ${status}`);
    const ct = this.header('content-type', this.responseHeaders) ?? '';
    this.setScalar('RESPONSE_CONTENT_TYPE', ct);
    const cl = this.header('content-length', this.responseHeaders);
    if (cl !== undefined) this.setScalar('RESPONSE_CONTENT_LENGTH', cl);
    this.runPhase(3);
    return this.interruption;
  }

  /** Whether the response body will be inspected (so a proxy can skip buffering it). */
  get responseBodyInspected(): boolean {
    if (!this.respBodyAccess) return false;
    const ct = (this.header('content-type', this.responseHeaders) ?? '').split(';')[0]!.trim().toLowerCase();
    return this.ruleSet.config.responseBodyMimeTypes.includes(ct);
  }

  appendResponseBody(chunk: string | Uint8Array): Interruption | null {
    if (this.interruption || !this.responseBodyInspected) return this.interruption;
    const bytes = toByteString(chunk);
    const limit = this.ruleSet.config.responseBodyLimit;
    if (this.respBodyLen + bytes.length > limit) {
      if (this.ruleSet.config.responseBodyLimitAction === 'Reject' && this.engine === 'On') {
        this.interruption = { action: 'deny', status: 500, ruleId: 0, phase: 4 };
        return this.interruption;
      }
      const room = limit - this.respBodyLen;
      if (room > 0) this.respBody.push(bytes.slice(0, room));
      this.respBodyLen = limit;
      this.setScalar('OUTBOUND_DATA_ERROR', '1');
      return null;
    }
    this.respBody.push(bytes);
    this.respBodyLen += bytes.length;
    return null;
  }

  /** Runs phase 4. */
  processResponseBody(): Interruption | null {
    if (this.phaseDone < 3) this.processResponseHeaders(200);
    if (this.interruption) return this.interruption;
    if (this.responseBodyInspected) this.setScalar('RESPONSE_BODY', this.respBody.join(''));
    this.runPhase(4);
    return this.interruption;
  }

  /** Runs phase 5 (always, even after an interruption, as ModSecurity does). */
  processLogging(): void {
    this.runPhase(5, true);
  }

  // ---- results ----

  /** A TX variable (lower-cased key), e.g. `blocking_inbound_anomaly_score`. */
  getTx(key: string): string | undefined {
    return this.tx.get(key.toLowerCase())?.value;
  }

  /** CRS's inbound anomaly score (the blocking one when CRS computed it, else the PL sums). */
  get anomalyScore(): number {
    const b = this.getTx('blocking_inbound_anomaly_score');
    if (b !== undefined) return Number.parseInt(b, 10) || 0;
    let s = 0;
    for (let pl = 1; pl <= 4; pl++) s += Number.parseInt(this.getTx(`inbound_anomaly_score_pl${pl}`) ?? '0', 10) || 0;
    return s;
  }

  get requestBodyTruncated(): boolean {
    return this.reqBodyTruncated;
  }

  get ruleEngine(): RuleEngineMode {
    return this.engine;
  }

  // ---- evaluation ----

  private runPhase(phase: number, force = false): void {
    if (this.phaseDone >= phase) return;
    this.phaseDone = phase;
    if (this.engine === 'Off') return;
    if (!force && this.interruption) return;
    if (this.allowedUntil >= phase && phase !== 5) return;
    const entries = this.ruleSet.phases[phase] ?? [];
    const skips = skipTable(entries);
    let skipN = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      if (isMarker(e)) continue;
      if (skipN > 0) {
        skipN--;
        continue;
      }
      if (this.isRemoved(e)) continue;
      if (this.matchedVars.length) this.matchedVars = [];
      if (!this.evaluate(e)) continue;
      const stop = this.onMatch(e, phase);
      if (stop) break;
      // skipAfter resumes at the marker or at the rule with that id (which then runs).
      if (e.skipAfter) i = skips[i]! - 1;
      else if (e.skip) skipN = e.skip;
    }
  }

  private isRemoved(r: Rule): boolean {
    for (const ranges of this.removedIds) if (idInRanges(r.id, ranges)) return true;
    if (this.removedTags.length) for (const t of this.removedTags) if (r.tags.includes(t)) return true;
    return false;
  }

  /** Executes the actions of a matched chain; true when the phase must stop. */
  private onMatch(rule: Rule, phase: number): boolean {
    this.currentRule = rule;
    let msg = rule.msg;
    let logdata = rule.logdata;
    for (let r = rule.chained; r; r = r.chained) {
      if (r.msg !== undefined) msg = r.msg;
      if (r.logdata !== undefined) logdata = r.logdata;
    }
    const disruptive: string = rule.disruptive === 'block' ? rule.blockAction : rule.disruptive;
    this.matchedRules.push({
      id: rule.id,
      phase,
      msg: msg === undefined ? '' : this.expand(msg),
      logdata: logdata === undefined ? '' : this.expand(logdata),
      tags: rule.tags,
      ...(rule.severity !== undefined ? { severity: rule.severity } : {}),
      log: rule.log,
      disruptive,
      matchedVariables: this.matchedVars.slice(),
    });
    if (rule.severity !== undefined) {
      const sev = severityNumber(rule.severity);
      if (sev < Number(this.cols.get('HIGHEST_SEVERITY')?.[0]?.value ?? 255)) this.setScalar('HIGHEST_SEVERITY', String(sev));
    }
    this.currentRule = null;
    if (disruptive === 'allow') {
      if (this.engine !== 'On') return false;
      if (rule.allowScope === 'phase') return true;
      this.allowedUntil = rule.allowScope === 'request' ? 2 : 4;
      return true;
    }
    if (disruptive === 'deny' || disruptive === 'drop' || disruptive === 'redirect') {
      if (this.engine !== 'On') return false;
      this.interruption = {
        action: disruptive,
        status: rule.status ?? (disruptive === 'redirect' ? 302 : 403),
        ruleId: rule.id,
        phase,
        ...(rule.redirectUrl !== undefined ? { redirectUrl: this.expand(rule.redirectUrl) } : {}),
      };
      return true;
    }
    return false;
  }

  private ctl(c: CtlAction): void {
    switch (c.kind) {
      case 'ruleEngine':
        this.engine = c.value;
        return;
      case 'requestBodyProcessor':
        this.reqBodyProcessor = c.value;
        this.setScalar('REQBODY_PROCESSOR', c.value);
        return;
      case 'forceRequestBodyVariable':
        this.forceReqBodyVar = c.value;
        return;
      case 'requestBodyAccess':
        this.reqBodyAccess = c.value;
        return;
      case 'responseBodyAccess':
        this.respBodyAccess = c.value;
        return;
      case 'ruleRemoveById':
        this.removedIds.push(c.ranges);
        return;
      case 'ruleRemoveByTag':
        this.removedTags.push(c.tag);
        return;
      case 'ruleRemoveTargetById':
        this.targetRemovals.push({ ranges: c.ranges, target: c.target });
        return;
      case 'ruleRemoveTargetByTag':
        this.targetRemovals.push({ tag: c.tag, target: c.target });
        return;
      case 'ignored':
        return;
    }
  }

  private setVar(collection: string, rawKey: string, op: '=' | '+' | '-' | 'delete', rawValue: string): void {
    if (collection !== 'TX') return; // persistent collections (IP, SESSION…) are not kept by this engine
    const key = this.expand(rawKey);
    const lkey = key.toLowerCase();
    if (op === 'delete') {
      this.tx.delete(lkey);
      return;
    }
    const value = this.expand(rawValue);
    if (op === '=') {
      this.tx.set(lkey, entry(`TX:${key}`, key, lkey, value));
      return;
    }
    const cur = Number.parseInt(this.tx.get(lkey)?.value ?? '0', 10) || 0;
    const delta = Number.parseInt(value, 10) || 0;
    this.tx.set(lkey, entry(`TX:${key}`, key, lkey, String(op === '+' ? cur + delta : cur - delta)));
  }

  /** Resolves %{…} macros. */
  expand(s: string): string {
    if (!s.includes('%{')) return s;
    let out = '';
    for (const p of parseMacros(s)) out += typeof p === 'string' ? p : this.macroValue(p);
    return out;
  }

  private macroValue(ref: MacroRef): string {
    if (ref.name === 'RULE') {
      const r = this.currentRule;
      const k = ref.ruleKey;
      if (!r) return '';
      if (k === 'id') return String(r.id);
      if (k === 'msg') return r.msg ?? '';
      if (k === 'severity') return r.severity ?? '';
      if (k === 'phase') return String(r.phase);
      return '';
    }
    return this.collect(ref.spec, null)[0]?.value ?? '';
  }

  /** Whether any exclusion could drop members of this collection for this rule. */
  private mayExclude(rule: Rule | null, name: string): boolean {
    if (!rule) return false;
    const ex = rule.exclusions;
    for (let i = 0; i < ex.length; i++) if (ex[i]!.name === name) return true;
    const trs = this.targetRemovals;
    for (let i = 0; i < trs.length; i++) if (trs[i]!.target.name === name) return true;
    return false;
  }

  private targetRemovalFor(name: string): boolean {
    const trs = this.targetRemovals;
    for (let i = 0; i < trs.length; i++) if (trs[i]!.target.name === name) return true;
    return false;
  }

  private isExcluded(rule: Rule | null, name: string, lkey: string): boolean {
    if (!rule) return false;
    const ex = rule.exclusions;
    for (let i = 0; i < ex.length; i++) {
      const x = ex[i]!;
      if (x.name === name && exclusionHits(x, lkey)) return true;
    }
    const trs = this.targetRemovals;
    for (let i = 0; i < trs.length; i++) {
      const t = trs[i]!;
      if (t.target.name !== name || !exclusionHits(t.target, lkey)) continue;
      if (t.ranges ? idInRanges(rule.id, t.ranges) : rule.tags.includes(t.tag!)) return true;
    }
    return false;
  }

  /** Members of one target; returns shared entry objects (no copies: this runs per rule). */
  private collect(spec: VariableSpec, rule: Rule | null, filterId = -1): readonly MatchedVariable[] {
    const name = spec.name;
    let out: MatchedVariable[];
    switch (name) {
      case 'TX':
        out = [];
        if (spec.key !== undefined && !spec.keyRegex) {
          const e = this.tx.get(spec.key);
          if (e && !this.isExcluded(rule, name, e.lkey)) out.push(e);
        } else this.filterInto(out, this.tx.values(), spec, rule);
        break;
      case 'MATCHED_VAR':
        out = this.matchedVar ? [{ name: 'MATCHED_VAR', value: this.matchedVar.value }] : [];
        break;
      case 'MATCHED_VAR_NAME':
        out = this.matchedVar ? [{ name: 'MATCHED_VAR_NAME', value: this.matchedVar.name }] : [];
        break;
      case 'MATCHED_VARS':
        out = [];
        for (const m of this.matchedVars) if (!this.isExcluded(rule, name, m.name.toLowerCase())) out.push(m);
        break;
      case 'MATCHED_VARS_NAMES':
        out = this.matchedVars.map((m) => ({ name: m.name, value: m.name }));
        break;
      case 'XML': {
        out = [];
        if (this.xml) {
          const k = spec.key ?? '/*';
          const vals = k.includes('@') ? this.xml.attributes : this.xml.texts;
          for (const v of vals) out.push({ name: `XML:${k}`, value: v });
        }
        break;
      }
      default: {
        const list = this.cols.get(name);
        if (!list) out = NO_ENTRIES;
        else if (filterId >= 0) {
          if (this.targetRemovalFor(name)) {
            out = [];
            this.filterInto(out, list, spec, rule);
          } else {
            // Same key selection and exclusions as an earlier rule: reuse its result.
            const c = this.filtered[filterId];
            if (c !== undefined && c.src === list && c.len === list.length) out = c.out;
            else {
              const f: Entry[] = [];
              this.filterInto(f, list, spec, rule);
              this.filtered[filterId] = { src: list, len: list.length, out: f };
              out = f;
            }
          }
        } else if (spec.key === undefined && !spec.keyRegex && (rule === null || !this.targetRemovalFor(name))) {
          // From evaluate, filter id -1 means no key and no exclusion of this collection.
          out = list;
        } else {
          out = [];
          this.filterInto(out, list, spec, rule);
        }
      }
    }
    if (spec.count) return [{ name: `&${name}`, value: String(out.length) }];
    return out;
  }

  private filterInto(out: MatchedVariable[], entries: Iterable<Entry>, spec: VariableSpec, rule: Rule | null): void {
    for (const e of entries) {
      if (spec.key !== undefined && e.lkey !== spec.key) continue;
      if (spec.keyRegex && !spec.keyRegex.test(e.key)) continue;
      if (this.isExcluded(rule, spec.name, e.lkey)) continue;
      out.push(e);
    }
  }

  /** The value's transformation cache: on the entry when it is one, else by value. */
  private slotOf(t: MatchedVariable): TransformSlot {
    const en = t as Entry;
    if (en.slot !== undefined) return en.slot;
    let slot = this.transformSlots.get(t.value);
    if (slot === undefined) {
      slot = [];
      this.transformSlots.set(t.value, slot);
    }
    if (en.lkey !== undefined) en.slot = slot;
    return slot;
  }

  private transform(rule: Rule, t: MatchedVariable): string {
    const ts = rule.transforms;
    const ids = rule.transformIds;
    const slot = this.slotOf(t);
    // Most lookups hit the whole chain (CRS shares chains across many rules): try it first.
    const full = slot[ids[ids.length - 1]!];
    if (full !== undefined) return full;
    let cur = t.value;
    for (let i = 0; i < ts.length; i++) {
      const id = ids[i]!;
      const hit = slot[id];
      if (hit !== undefined) cur = hit;
      else {
        cur = ts[i]!.fn(cur);
        slot[id] = cur;
      }
    }
    return cur;
  }

  /**
   * Like ModSecurity, a link's setvar/ctl run for every value it matches, right away: CRS keeps
   * one TX variable per matched header or argument (920450, 921180) and chained rules read what
   * their starter just set (931130).
   */
  private nonDisruptive(rule: Rule): void {
    if (rule.setvars.length === 0 && rule.ctls.length === 0) return;
    this.currentRule = rule;
    for (const sv of rule.setvars) this.setVar(sv.collection, sv.key, sv.op, sv.value);
    for (const c of rule.ctls) this.ctl(c);
  }

  /** Runs the operator on one value; on a match records MATCHED_VAR(S), captures and setvars. */
  private tryMatch(rule: Rule, name: string, v: string, expand: (s: string) => string): boolean {
    this.currentRule = rule;
    const r = rule.operator.evaluate(v, expand, rule.capture);
    if (r.matched === rule.negated) return false;
    const mv = { name, value: v };
    this.matchedVar = mv;
    this.matchedVars.push(mv);
    if (rule.capture && r.captures) {
      for (let k = 0; k < 10; k++) {
        const c = r.captures[k];
        if (c !== undefined) this.tx.set(String(k), entry(`TX:${k}`, String(k), String(k), c));
      }
    }
    this.nonDisruptive(rule);
    return true;
  }

  /** Does this rule (and its chain) match? Records MATCHED_VAR(S) and captures as it goes. */
  private evaluate(rule: Rule): boolean {
    let matched = false;
    if (rule.unconditional) matched = true;
    else {
      const expand = this.expandFn;
      const vars = rule.variables;
      const fids = filterIds(rule);
      for (let vi = 0; vi < vars.length; vi++) {
        const targets = this.collect(vars[vi]!, rule, fids[vi]!);
        for (let ti = 0; ti < targets.length; ti++) {
          const t = targets[ti]!;
          if (rule.multiMatch && rule.transforms.length > 0) {
            // multiMatch: the operator sees the value before and after every transformation.
            let cur = t.value;
            if (this.tryMatch(rule, t.name, cur, expand)) {
              matched = true;
              continue;
            }
            // Each step is the chain prefix applied to the value: shared with the transform cache.
            const ts = rule.transforms;
            const ids = rule.transformIds;
            const slot = this.slotOf(t);
            for (let i = 0; i < ts.length; i++) {
              let next = slot[ids[i]!];
              if (next === undefined) {
                next = ts[i]!.fn(cur);
                slot[ids[i]!] = next;
              }
              if (next !== cur && this.tryMatch(rule, t.name, next, expand)) {
                matched = true;
                break;
              }
              cur = next;
            }
          } else if (this.tryMatch(rule, t.name, rule.transforms.length ? this.transform(rule, t) : t.value, expand)) matched = true;
        }
      }
    }
    if (rule.unconditional) this.nonDisruptive(rule);
    this.currentRule = null;
    if (!matched) return false;
    if (rule.chained) return this.evaluate(rule.chained);
    return true;
  }
}

function exclusionHits(x: TargetExclusion, lkey: string): boolean {
  if (x.key === undefined && !x.keyRegex) return true;
  if (x.key !== undefined) return x.key === lkey;
  return x.keyRegex!.test(lkey);
}

function severityNumber(s: string): number {
  const names = ['emergency', 'alert', 'critical', 'error', 'warning', 'notice', 'info', 'debug'];
  const i = names.indexOf(s.toLowerCase());
  if (i >= 0) return i;
  const n = Number(s);
  return Number.isInteger(n) ? n : 255;
}
