import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '@palisade/diagnostics';
import {
  CRS_TEST_SETUP,
  type FtwFile,
  loadRuleSet,
  RECOMMENDED_BASE_CONFIG,
  type RegexEngine,
  type RuleSet,
  type RuleSource,
  runFtwTest,
  Transaction,
} from '@palisade/seclang';
import { parse as parseYaml } from 'yaml';
import { CliError, printJson, printJsonLine } from './output.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Where CRS lives when --crs-dir is not given: the shared suite in development, Debian's package otherwise. */
export function defaultCrsDir(): string {
  const shared = join(process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared'), 'crs');
  if (existsSync(join(shared, 'rules'))) return shared;
  return '/usr/share/modsecurity-crs';
}

export function readFileOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** Glob with `*` and `?` in the last path component, which is what SecLang Include uses. */
export function globFiles(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
  try {
    return readdirSync(dir)
      .filter((f) => re.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

/** The rules directory of a CRS checkout or of Debian's modsecurity-crs package. */
function crsRuleGlob(crsDir: string): { setup: string; rules: string } {
  const setup = [join(crsDir, 'crs-setup.conf.example'), '/etc/modsecurity/crs/crs-setup.conf'].find((p) => existsSync(p));
  if (!setup) throw new CliError('IPS_CRS_NOT_FOUND', `no crs-setup.conf.example in ${crsDir}`);
  return { setup, rules: join(crsDir, 'rules', '*.conf') };
}

export interface CrsLoadOptions {
  crsDir: string;
  /** SecLang placed before crs-setup (e.g. the 900005 test settings). */
  before?: string;
  after?: string;
  engine?: RegexEngine;
}

export function loadCrs(opts: CrsLoadOptions): RuleSet {
  const { setup, rules } = crsRuleGlob(opts.crsDir);
  const text = `${RECOMMENDED_BASE_CONFIG}${opts.before ?? ''}\nInclude ${setup}\nInclude ${rules}\n${opts.after ?? ''}`;
  const r = loadRuleSet([{ name: join(process.cwd(), 'palisade-crs.conf'), text }], {
    readFile: readFileOrUndefined,
    glob: globFiles,
    regexEngine: opts.engine ?? 'auto',
  });
  if (!r.ok) throw new CliError('IPS_RULES_INVALID', r.diagnostics.map(formatDiagnostic).join('\n'));
  return r.value;
}

function listYaml(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) listYaml(p, out);
    else if (name.endsWith('.yaml') || name.endsWith('.yml')) out.push(p);
  }
  return out;
}

export interface CrsSuiteResult {
  total: number;
  passed: number;
  rate: number;
  files: { file: string; total: number; passed: number }[];
  failures: { file: string; testId: string; reasons: string[] }[];
}

export function runCrsSuite(crsDir: string, filter?: (file: string) => boolean, engine: RegexEngine = 'auto'): CrsSuiteResult {
  const ruleSet = loadCrs({ crsDir, before: CRS_TEST_SETUP, engine });
  const testsDir = join(crsDir, 'tests', 'regression', 'tests');
  if (!existsSync(testsDir)) throw new CliError('IPS_CRS_TESTS_NOT_FOUND', `no regression tests in ${testsDir}`);
  const result: CrsSuiteResult = { total: 0, passed: 0, rate: 0, files: [], failures: [] };
  for (const file of listYaml(testsDir)) {
    const rel = relative(testsDir, file);
    if (filter && !filter(rel)) continue;
    const doc = parseYaml(readFileSync(file, 'utf8')) as FtwFile;
    let passed = 0;
    for (const t of doc?.tests ?? []) {
      const v = runFtwTest(ruleSet, t);
      if (v.pass) passed++;
      else result.failures.push({ file: rel, testId: String(t.test_id), reasons: v.reasons });
    }
    const total = doc?.tests?.length ?? 0;
    result.files.push({ file: rel, total, passed });
    result.total += total;
    result.passed += passed;
  }
  result.rate = result.total ? result.passed / result.total : 0;
  return result;
}

interface ReplayRequest {
  id?: string | number;
  method?: string;
  uri?: string;
  headers?: Record<string, string> | [string, string][];
  body?: string;
  bodyBase64?: string;
}

function loadRuleArgs(rules: string[], crsDir: string, paranoia: number | undefined, detect: boolean): RuleSet {
  const mode = detect ? 'DetectionOnly' : 'On';
  const pl = paranoia ? `SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=${paranoia}"\n` : '';
  const sources: RuleSource[] = [{ name: join(process.cwd(), 'palisade-base.conf'), text: `${RECOMMENDED_BASE_CONFIG}SecRuleEngine ${mode}\n${pl}` }];
  for (const r of rules) {
    if (r === 'crs') {
      const { setup, rules: glob } = crsRuleGlob(crsDir);
      sources.push({ name: join(process.cwd(), 'palisade-crs.conf'), text: `Include ${setup}\nInclude ${glob}\n` });
      continue;
    }
    const p = resolve(r);
    if (!existsSync(p)) throw new CliError('IPS_RULES_NOT_FOUND', `no such rules file or directory: ${r}`);
    const files = statSync(p).isDirectory() ? globFiles(join(p, '*.conf')) : [p];
    for (const f of files) sources.push({ name: f, text: readFileSync(f, 'latin1') });
  }
  const res = loadRuleSet(sources, { readFile: readFileOrUndefined, glob: globFiles });
  if (!res.ok) throw new CliError('IPS_RULES_INVALID', res.diagnostics.map(formatDiagnostic).join('\n'));
  // The engine mode is the caller's choice, whatever the rule files say.
  (res.value.config as { ruleEngine: string }).ruleEngine = mode;
  return res.value;
}

export function registerIpsCommands(program: Command): void {
  const ips = program.command('ips').description('IPS engine (SecLang / OWASP CRS) offline tools');

  ips
    .command('crs-test')
    .description('run the OWASP CRS regression suite in-process and print the pass rate')
    .option('--crs-dir <dir>', 'CRS checkout with rules/ and tests/regression/tests')
    .option('--filter <substring>', 'only test files whose path contains this')
    .option('--re2', 'run every pattern with the linear-time re2 engine')
    .option('--js', 'run every pattern with V8 (no re2 for backtracking-prone patterns)')
    .option('--failures', 'list every failing test with its reasons')
    .option('--json', 'print one JSON document')
    .action((opts, cmd) => {
      // --json may also be given as the program's global option.
      const json = opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json;
      const crsDir = opts.crsDir ?? defaultCrsDir();
      const t0 = performance.now();
      const r = runCrsSuite(crsDir, opts.filter ? (f) => f.includes(opts.filter!) : undefined, opts.re2 ? 're2' : opts.js ? 'js' : 'auto');
      const seconds = (performance.now() - t0) / 1000;
      if (json) {
        printJson({ ...r, seconds });
        return;
      }
      for (const f of r.files) process.stdout.write(`${f.passed === f.total ? 'ok  ' : 'FAIL'} ${f.file} ${f.passed}/${f.total}\n`);
      if (opts.failures) for (const f of r.failures) process.stdout.write(`  ${f.file} #${f.testId}: ${f.reasons.join('; ')}\n`);
      process.stdout.write(`\n${r.passed}/${r.total} passed (${(r.rate * 100).toFixed(2)}%) in ${seconds.toFixed(1)} s\n`);
    });

  ips
    .command('replay')
    .description('evaluate requests from a JSON-lines file and print one verdict per line')
    .argument('<file>', 'one request per line: {"id","method","uri","headers","body"|"bodyBase64"}')
    .option('--rules <spec...>', 'crs, a rules directory or a .conf file (repeatable)', ['crs'])
    .option('--crs-dir <dir>', 'where CRS is when --rules crs')
    .option('--paranoia <n>', 'CRS blocking paranoia level (1-4)')
    .option('--detect', 'detection only: report, never block')
    .option('--json', 'print JSON lines and a JSON summary')
    .action((file, opts, cmd) => {
      const json = opts.json ?? (cmd.optsWithGlobals() as { json?: boolean }).json;
      const paranoia = opts.paranoia === undefined ? undefined : Number(opts.paranoia);
      if (paranoia !== undefined && !(paranoia >= 1 && paranoia <= 4)) throw new CliError('IPS_BAD_ARGUMENT', '--paranoia takes 1 to 4');
      const text = readFileOrUndefined(file);
      if (text === undefined) throw new CliError('IPS_REPLAY_NOT_FOUND', `cannot read ${file}`);
      const ruleSet = loadRuleArgs(opts.rules, opts.crsDir ?? defaultCrsDir(), paranoia, !!opts.detect);
      const summary = { requests: 0, blocked: 0, allowed: 0, errors: 0 };
      const lines = Buffer.from(text, 'latin1').toString('utf8').split('\n');
      for (const [n, line] of lines.entries()) {
        if (line.trim() === '') continue;
        let req: ReplayRequest;
        try {
          req = JSON.parse(line) as ReplayRequest;
        } catch (err) {
          summary.errors++;
          process.stderr.write(`${file}:${n + 1}: invalid JSON: ${(err as Error).message}\n`);
          continue;
        }
        summary.requests++;
        const tx = new Transaction(ruleSet, { id: String(req.id ?? n + 1) });
        tx.processConnection('127.0.0.1');
        tx.processUri(req.uri ?? '/', req.method ?? 'GET');
        const headers = Array.isArray(req.headers) ? req.headers : Object.entries(req.headers ?? {});
        const body = req.bodyBase64 !== undefined ? Buffer.from(req.bodyBase64, 'base64') : req.body !== undefined ? Buffer.from(req.body, 'utf8') : undefined;
        for (const [k, v] of headers) tx.addRequestHeader(k, String(v));
        // A recorded request may omit framing headers; on the wire a body always has a length.
        if (body && body.length > 0 && !headers.some(([k]) => /^(content-length|transfer-encoding)$/i.test(k))) tx.addRequestHeader('Content-Length', String(body.length));
        tx.processRequestHeaders();
        if (body) tx.appendRequestBody(body);
        tx.processRequestBody();
        tx.processLogging();
        const blocked = tx.interruption !== null && tx.interruption.action !== 'allow';
        if (blocked) summary.blocked++;
        else summary.allowed++;
        const verdict = {
          id: req.id ?? n + 1,
          action: blocked ? 'block' : 'allow',
          status: blocked ? tx.interruption!.status : 200,
          ruleIds: [...new Set(tx.matchedRules.filter((m) => m.log).map((m) => m.id))],
          anomalyScore: tx.anomalyScore,
        };
        if (json) printJsonLine(verdict);
        else process.stdout.write(`${verdict.id}\t${verdict.action}\t${verdict.status}\tscore=${verdict.anomalyScore}\t${verdict.ruleIds.join(',')}\n`);
      }
      if (json) printJsonLine({ summary });
      else process.stdout.write(`\n${summary.requests} requests: ${summary.blocked} blocked, ${summary.allowed} allowed, ${summary.errors} unreadable lines\n`);
    });
}
