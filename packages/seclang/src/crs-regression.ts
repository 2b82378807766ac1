import type { RuleSet } from './rule-set.ts';
import { Transaction } from './transaction.ts';

/**
 * The engine settings ModSecurity's recommended configuration ships (body access, the
 * Content-Type -> XML/JSON processor switches, body error checks). CRS assumes them.
 */
export const RECOMMENDED_BASE_CONFIG = `SecRuleEngine On
SecRequestBodyAccess On
SecRequestBodyLimit 13107200
SecRequestBodyNoFilesLimit 131072
SecRequestBodyLimitAction Reject
SecResponseBodyAccess On
SecResponseBodyMimeType text/plain text/html text/xml
SecResponseBodyLimit 524288
SecResponseBodyLimitAction ProcessPartial
SecRule REQUEST_HEADERS:Content-Type "^(?:application(?:/soap\\+|/)|text/)xml" "id:200000,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=XML"
SecRule REQUEST_HEADERS:Content-Type "^application/json" "id:200001,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQUEST_HEADERS:Content-Type "^application/[a-z0-9.-]+[+]json" "id:200006,phase:1,t:none,t:lowercase,pass,nolog,ctl:requestBodyProcessor=JSON"
SecRule REQBODY_ERROR "!@eq 0" "id:200002,phase:2,t:none,log,deny,status:400,msg:'Failed to parse request body.',logdata:'%{reqbody_error_msg}',severity:2"
SecRule MULTIPART_STRICT_ERROR "!@eq 0" "id:200003,phase:2,t:none,log,deny,status:400,msg:'Multipart request body failed strict validation'"
`;

/** The CRS regression-test settings (see the CRS tests README): DetectionOnly, blocking PL 4. */
export const CRS_TEST_SETUP = `SecAction "id:900005,phase:1,nolog,pass,ctl:ruleEngine=DetectionOnly,ctl:ruleRemoveById=910000,setvar:tx.blocking_paranoia_level=4,setvar:tx.crs_validate_utf8_encoding=1,setvar:tx.arg_name_length=100,setvar:tx.arg_length=400,setvar:tx.total_arg_length=64000,setvar:tx.max_num_args=255,setvar:tx.max_file_size=64100,setvar:tx.combined_file_sizes=65535"
`;

/** One stage input in go-ftw's YAML format. */
export interface FtwInput {
  dest_addr?: string;
  port?: number;
  method?: string;
  uri?: string;
  version?: string;
  headers?: Record<string, string | number>;
  data?: string;
  encoded_request?: string;
  autocomplete_headers?: boolean;
}

export interface FtwOutput {
  status?: number | number[];
  log?: { expect_ids?: number[]; no_expect_ids?: number[]; match_regex?: string; no_match_regex?: string };
  expect_error?: boolean;
}

export interface FtwTest {
  test_id: number | string;
  desc?: string;
  stages: { input: FtwInput; output: FtwOutput }[];
}

export interface FtwFile {
  rule_id?: number;
  tests: FtwTest[];
}

export interface StageOutcome {
  loggedIds: number[];
  status: number;
  logLines: string[];
}

interface RawRequest {
  method: string;
  uri: string;
  version: string;
  headers: [string, string][];
  body: string;
}

/** Bytes of a string as go-ftw sends them (UTF-8), one char per byte. */
function bytes(s: string): string {
  return Buffer.from(s, 'utf8').toString('latin1');
}

function dechunk(body: string): string {
  let out = '';
  let i = 0;
  for (;;) {
    const nl = body.indexOf('\r\n', i);
    if (nl < 0) return out;
    const size = Number.parseInt(body.slice(i, nl).split(';')[0]!, 16);
    if (!Number.isFinite(size) || size === 0) return out;
    out += body.slice(nl + 2, nl + 2 + size);
    i = nl + 2 + size + 2;
  }
}

function parseRawRequest(raw: string): RawRequest {
  const headEnd = raw.indexOf('\r\n\r\n');
  const head = headEnd < 0 ? raw : raw.slice(0, headEnd);
  let body = headEnd < 0 ? '' : raw.slice(headEnd + 4);
  const lines = head.split('\r\n');
  const [method = 'GET', uri = '/', version = 'HTTP/1.1'] = lines[0]!.split(' ');
  const headers: [string, string][] = [];
  for (const l of lines.slice(1)) {
    const c = l.indexOf(':');
    if (c > 0) headers.push([l.slice(0, c), l.slice(c + 1).trim()]);
  }
  if (headers.some(([k, v]) => k.toLowerCase() === 'transfer-encoding' && v.toLowerCase().includes('chunked'))) body = dechunk(body);
  return { method, uri, version, headers, body };
}

/**
 * What an HTTP/1.1 server hands the WAF: Transfer-Encoding wins over Content-Length (the body is
 * de-chunked and Content-Length dropped), and without either there is no body to read.
 */
function asServerSeesIt(req: RawRequest): RawRequest {
  const chunked = req.headers.some(([k, v]) => k.toLowerCase() === 'transfer-encoding' && v.toLowerCase().includes('chunked'));
  const hasLength = req.headers.some(([k]) => k.toLowerCase() === 'content-length');
  if (chunked) return { ...req, headers: req.headers.filter(([k]) => k.toLowerCase() !== 'content-length') };
  if (!hasLength) return { ...req, body: '' };
  return req;
}

/** Builds the request a go-ftw stage sends, including go-ftw's header autocompletion. */
export function buildFtwRequest(input: FtwInput): RawRequest {
  return asServerSeesIt(buildClientRequest(input));
}

function buildClientRequest(input: FtwInput): RawRequest {
  if (input.encoded_request) return parseRawRequest(Buffer.from(input.encoded_request.replace(/\s+/g, ''), 'base64').toString('latin1'));
  const headers: [string, string][] = Object.entries(input.headers ?? {}).map(([k, v]) => [bytes(k), bytes(String(v))]);
  const body = bytes(input.data ?? '');
  if (input.autocomplete_headers !== false && !headers.some(([k]) => k.toLowerCase() === 'content-length')) {
    headers.push(['Content-Length', String(body.length)]);
  }
  if (input.autocomplete_headers !== false && body.length > 0 && !headers.some(([k]) => k.toLowerCase() === 'content-type')) {
    headers.push(['Content-Type', 'application/x-www-form-urlencoded']);
  }
  return { method: bytes(input.method ?? 'GET'), uri: bytes(input.uri ?? '/'), version: input.version ?? 'HTTP/1.1', headers, body };
}

function sniffContentType(body: string): string {
  return /^\s*<(?:!doctype html|html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|!--)[\s>]/i.test(body) ? 'text/html; charset=utf-8' : 'text/plain; charset=utf-8';
}

/** ModSecurity's error-log escaping: control and non-ASCII bytes as \xHH, quotes backslashed. */
function logEscape(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: escaping exactly these
  return s.replace(/["\\]|[^\x20-\x7e]/g, (c) => (c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** Runs one stage in-process: phases 1-2, plus 3-4 with the reflected response for /reflect. */
export function runFtwStage(ruleSet: RuleSet, input: FtwInput): StageOutcome {
  const req = buildFtwRequest(input);
  const tx = new Transaction(ruleSet, { id: 'crs-test' });
  tx.processConnection('127.0.0.1', 40000, input.dest_addr ?? '127.0.0.1', input.port ?? 80);
  // The request is already bytes (one char per byte): hand it over as bytes, not as text.
  const raw = (s: string) => Buffer.from(s, 'latin1');
  tx.processUri(raw(req.uri), Buffer.from(req.method, 'latin1').toString('utf8'), req.version);
  for (const [k, v] of req.headers) tx.addRequestHeader(Buffer.from(k, 'latin1').toString('utf8'), raw(v));
  tx.processRequestHeaders();
  if (req.body) tx.appendRequestBody(raw(req.body));
  tx.processRequestBody();
  const path = req.uri.split('?')[0]!;
  if (path === '/reflect' && !tx.interruption) {
    let spec: { status?: number; headers?: Record<string, string>; body?: string; encodedBody?: string } = {};
    try {
      spec = JSON.parse(Buffer.from(req.body, 'latin1').toString('utf8'));
    } catch {
      spec = {};
    }
    const body = spec.encodedBody !== undefined ? Buffer.from(spec.encodedBody, 'base64').toString('latin1') : bytes(spec.body ?? '');
    const headers = Object.entries(spec.headers ?? {});
    if (!headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['Content-Type', sniffContentType(body)]);
    for (const [k, v] of headers) tx.addResponseHeader(k, String(v));
    tx.processResponseHeaders(spec.status ?? 200);
    tx.appendResponseBody(raw(body));
    tx.processResponseBody();
  }
  tx.processLogging();
  const logged = tx.matchedRules.filter((m) => m.log);
  return {
    loggedIds: logged.map((m) => m.id),
    status: tx.interruption?.status ?? 200,
    logLines: logged.map((m) => `[id "${m.id}"] [msg "${logEscape(m.msg)}"] [data "${logEscape(m.logdata)}"] [severity "${m.severity ?? ''}"]`),
  };
}

export interface TestVerdict {
  pass: boolean;
  reasons: string[];
}

/** Compares one stage's outcome with go-ftw's expectations. */
export function checkFtwStage(outcome: StageOutcome, output: FtwOutput): TestVerdict {
  const reasons: string[] = [];
  const ids = new Set(outcome.loggedIds);
  for (const id of output.log?.expect_ids ?? []) if (!ids.has(id)) reasons.push(`expected ${id} to match`);
  for (const id of output.log?.no_expect_ids ?? []) if (ids.has(id)) reasons.push(`expected ${id} not to match`);
  const text = outcome.logLines.join('\n');
  if (output.log?.match_regex && !new RegExp(output.log.match_regex).test(text)) reasons.push(`log does not match /${output.log.match_regex}/`);
  if (output.log?.no_match_regex && new RegExp(output.log.no_match_regex).test(text)) reasons.push(`log matches /${output.log.no_match_regex}/`);
  if (output.status !== undefined) {
    const allowed = Array.isArray(output.status) ? output.status : [output.status];
    if (!allowed.includes(outcome.status)) reasons.push(`status ${outcome.status}, expected ${allowed.join(' or ')}`);
  }
  return { pass: reasons.length === 0, reasons };
}

export function runFtwTest(ruleSet: RuleSet, test: FtwTest): TestVerdict {
  const reasons: string[] = [];
  for (const [i, stage] of test.stages.entries()) {
    const v = checkFtwStage(runFtwStage(ruleSet, stage.input), stage.output);
    for (const r of v.reasons) reasons.push(test.stages.length > 1 ? `stage ${i + 1}: ${r}` : r);
  }
  return { pass: reasons.length === 0, reasons };
}
