import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Command } from '@commander-js/extra-typings';
import { formatDiagnostic } from '@palisade/diagnostics';
import {
  type LogRuleset,
  LogSession,
  loadLogRuleset,
  loadWazuhSuiteRuleset,
  parseWazuhCases,
  type ProcessResult,
  runWazuhSuite,
  type SourceFile,
  sourcesFromFiles,
} from '@palisade/log-rules';
import { CliError, printJson, printJsonLine } from './output.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

/** Palisade's own log rules, used when no --rules is given. */
export const DEFAULT_LOG_RULES_DIR = join(repoRoot, 'rules/log');

/** Every file below `dir`, with paths relative to it (sorted, so loading is deterministic). */
export function readTree(dir: string, skip: (rel: string) => boolean = () => false): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const rel = relative(dir, p);
      if (skip(rel)) continue;
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: rel, text: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

/** Loads decoders, rules and lists from directories (test fixtures and non-XML files are skipped). */
export function loadRulesDirs(dirs: string[]): LogRuleset {
  const files = dirs.flatMap((d) => {
    try {
      return readTree(d, (rel) => rel.split('/').includes('tests')).map((f) => ({ ...f, path: join(d, f.path) }));
    } catch (e) {
      throw new CliError('LOGRULES_DIR_UNREADABLE', `cannot read ${d}: ${(e as Error).message}`);
    }
  });
  const result = loadLogRuleset(sourcesFromFiles(files));
  for (const d of result.diagnostics) if (d.severity === 'error' || !result.ok) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (!result.ok) throw new CliError('LOGRULES_LOAD_FAILED', 'the rules did not load; nothing was applied');
  return result.value;
}

function printHuman(r: ProcessResult): void {
  const e = r.event;
  const lines = ['**Phase 1: Completed pre-decoding.', `\tfull event: '${e.fullLog}'`];
  if (e.timestamp !== undefined) lines.push(`\ttimestamp: '${e.timestamp}'`);
  if (e.hostname !== undefined) lines.push(`\thostname: '${e.hostname}'`);
  if (e.programName !== undefined) lines.push(`\tprogram_name: '${e.programName}'`);
  if (e.decoder !== undefined) {
    lines.push('', '**Phase 2: Completed decoding.', `\tname: '${e.decoder}'`);
    if (e.parentDecoder !== undefined) lines.push(`\tparent: '${e.parentDecoder}'`);
    for (const [k, v] of Object.entries(e.fields)) lines.push(`\t${k}: '${v}'`);
  } else lines.push('', '**Phase 2: Completed decoding.', '\tNo decoder matched.');
  if (r.rule) {
    lines.push(
      '',
      '**Phase 3: Completed filtering (rules).',
      `\tid: '${r.rule.id}'`,
      `\tlevel: '${r.rule.level}'`,
      `\tdescription: '${r.rule.description}'`,
      `\tgroups: [${r.rule.groups.map((g) => `'${g}'`).join(', ')}]`,
    );
    if (r.rule.mitre.length) lines.push(`\tmitre.id: [${r.rule.mitre.map((m) => `'${m}'`).join(', ')}]`);
    if (r.alert) lines.push('**Alert to be generated.');
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

export function registerLogtestCommands(program: Command): void {
  program
    .command('logtest')
    .description('Decode and match log lines from stdin (one session, like wazuh-logtest), or run the Wazuh suite')
    .option('--rules <dir...>', 'rule/decoder directories (default: Palisade rules/log)')
    .option('--location <name>', 'event location rules see', 'stdin')
    .option('--log-format <format>', 'syslog (pre-decode the header) or json/raw', 'syslog')
    .option('--wazuh-suite <dir>', 'run the Wazuh ruleset regression suite in this directory')
    .option('--geoip', 'also run the *geoip.ini cases of the suite (GeoIP is not implemented)')
    .option('--min-rate <percent>', 'with --wazuh-suite: exit 1 when the pass rate is lower')
    .option('--json', 'JSON output')
    .action(async (opts, cmd) => {
      // The root command also defines --json; accept it in either position.
      const json = !!opts.json || !!(cmd.optsWithGlobals() as { json?: boolean }).json;
      if (opts.wazuhSuite) return runSuite(opts.wazuhSuite, json, !!opts.geoip, opts.minRate);
      const ruleset = loadRulesDirs(opts.rules?.length ? opts.rules : [DEFAULT_LOG_RULES_DIR]);
      const session = new LogSession(ruleset);
      const rl = createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY });
      for await (const line of rl) {
        if (!line.trim()) continue;
        const r = session.process(line, { location: opts.location, logFormat: opts.logFormat, time: Math.floor(Date.now() / 1000) });
        if (json) printJsonLine(r);
        else printHuman(r);
      }
    });
}

function runSuite(dir: string, json: boolean, geoip: boolean, minRate: string | undefined): void {
  let files: SourceFile[];
  let cases;
  try {
    files = [
      ...readTree(join(dir, 'ruleset')).map((f) => ({ ...f, path: `ruleset/${f.path}` })),
      ...readTree(join(dir, 'etc')).map((f) => ({ ...f, path: `etc/${f.path}` })),
    ];
    cases = parseWazuhCases(readFileSync(join(dir, 'cases.jsonl'), 'utf8'));
  } catch (e) {
    throw new CliError('LOGRULES_SUITE_UNREADABLE', `cannot read the suite in ${dir}: ${(e as Error).message}`);
  }
  const started = performance.now();
  const loaded = loadWazuhSuiteRuleset(files);
  if (!loaded.ok) {
    for (const d of loaded.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    throw new CliError('LOGRULES_LOAD_FAILED', 'the Wazuh ruleset did not load');
  }
  const loadMs = performance.now() - started;
  const summary = runWazuhSuite(loaded.value, cases, geoip);
  const totalMs = performance.now() - started;
  const rate = summary.total ? (100 * summary.passed) / summary.total : 0;
  if (json) {
    printJson({
      total: summary.total,
      passed: summary.passed,
      rate,
      loadMs: Math.round(loadMs),
      totalMs: Math.round(totalMs),
      warnings: loaded.diagnostics.length,
      perFile: summary.perFile,
      failures: summary.failures.map((f) => ({
        n: f.case.n,
        file: f.case.file,
        section: f.case.section,
        key: f.case.key,
        expected: { rule: f.case.rule, level: f.case.level, decoder: f.case.decoder },
        actual: f.actual,
      })),
    });
  } else {
    for (const f of summary.perFile)
      process.stdout.write(
        `${f.file.padEnd(48)} ${String(f.passed).padStart(4)}/${String(f.total).padEnd(4)} ${((100 * f.passed) / f.total).toFixed(1)}%\n`,
      );
    for (const f of summary.failures)
      process.stdout.write(
        `FAIL ${f.case.file} [${f.case.section.trim()}] ${f.case.key}: expected ${f.case.rule}/${f.case.level}/${f.case.decoder}, got ${f.actual.rule}/${f.actual.level}/${f.actual.decoder}\n`,
      );
    process.stdout.write(
      `overall: ${summary.passed}/${summary.total} (${rate.toFixed(2)}%), ruleset loaded in ${loadMs.toFixed(0)} ms, suite in ${totalMs.toFixed(0)} ms\n`,
    );
  }
  if (minRate !== undefined && rate < Number(minRate)) process.exitCode = 1;
}
