import type { LoadResult } from '@palisade/diagnostics';
import { type LogRuleset, loadLogRuleset, type RulesetSources, type SourceFile } from './log-ruleset.ts';
import { LogSession } from './log-session.ts';

/** One line of the suite's `cases.jsonl` (see SOURCE.md next to it). */
export interface WazuhCase {
  n: number;
  file: string;
  section: string;
  key: string;
  expect: 'match' | 'no-match';
  rule: string;
  level: string;
  decoder: string;
  geoip: boolean;
  logs: string[];
}

export interface WazuhCaseResult {
  case: WazuhCase;
  passed: boolean;
  actual: { rule: string; level: string; decoder: string };
}

/** The lists the suite's manager configuration loads (SOURCE.md, item 7). */
const CONFIGURED_LISTS = ['audit-keys', 'malicious-ioc/malware-hashes', 'malicious-ioc/malicious-ip', 'malicious-ioc/malicious-domains'];
const EXCLUDED_RULE_FILES = new Set(['0215-policy_rules.xml']);

const base = (p: string): string => p.slice(p.lastIndexOf('/') + 1);
const byName = (a: SourceFile, b: SourceFile): number => (base(a.path) < base(b.path) ? -1 : base(a.path) > base(b.path) ? 1 : 0);

/**
 * Arranges the suite's files the way its harness sets up a manager: ruleset decoders and rules
 * (minus the excluded policy file) sorted by name, then the user directories holding
 * `local_*.xml` and the test-only `test_*` files; rule 60000 rewritten to accept JSON events, as
 * runtests.py does. `files` are paths relative to the suite directory.
 */
export function wazuhSuiteSources(files: SourceFile[]): RulesetSources {
  const under = (dir: string) => files.filter((f) => f.path.startsWith(dir) && f.path.endsWith('.xml')).sort(byName);
  const decoders = [
    ...under('ruleset/decoders/'),
    ...[
      ...files.filter((f) => f.path === 'etc/local_decoder.xml'),
      ...under('ruleset/testing/ruleset/').filter((f) => /^test_.*decoders\.xml$/.test(base(f.path))),
    ].sort(byName),
  ];
  const rules = [
    ...under('ruleset/rules/')
      .filter((f) => !EXCLUDED_RULE_FILES.has(base(f.path)))
      .map((f) => (base(f.path) === '0575-win-base_rules.xml' ? { path: f.path, text: rewriteRule60000(f.text) } : f)),
    ...[
      ...files.filter((f) => f.path === 'etc/local_rules.xml'),
      ...under('ruleset/testing/ruleset/').filter((f) => /^test_.*rules\.xml$/.test(base(f.path))),
    ].sort(byName),
  ];
  const lists = files
    .filter((f) => f.path.startsWith('ruleset/lists/'))
    .map((f) => ({ path: f.path.replace(/^ruleset\/lists\//, ''), text: f.text }))
    .filter((f) => CONFIGURED_LISTS.includes(f.path));
  return { decoders, rules, lists };
}

function rewriteRule60000(text: string): string {
  return text.replace(/(<rule id="60000"[^>]*>)([\s\S]*?)(<\/rule>)/, (_all, open: string, body: string, close: string) => {
    const cleaned = body
      .replace(/\s*<category>[^<]*<\/category>/g, '')
      .replace(/<decoded_as>[^<]*<\/decoded_as>/, '<decoded_as>json</decoded_as>');
    return open + (cleaned.includes('<decoded_as>') ? cleaned : `\n    <decoded_as>json</decoded_as>${cleaned}`) + close;
  });
}

export function parseWazuhCases(jsonl: string): WazuhCase[] {
  return jsonl
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as WazuhCase);
}

/** Judges one case exactly as SOURCE.md describes (fresh session, last event, exit-code rule). */
export function runWazuhCase(ruleset: LogRuleset, c: WazuhCase): WazuhCaseResult {
  const session = new LogSession(ruleset);
  let actual = { rule: '', level: '', decoder: '' };
  let t = 1_700_000_000;
  for (const line of c.logs) {
    if (!line) continue;
    const r = session.process(line, { location: 'stdin', logFormat: 'syslog', time: t });
    actual = { rule: r.rule ? String(r.rule.id) : '', level: r.rule ? String(r.rule.level) : '', decoder: r.event.decoder ?? '' };
  }
  const expected = { rule: c.rule, level: c.level, decoder: c.decoder };
  const same = actual.rule === expected.rule && actual.level === expected.level && actual.decoder === expected.decoder;
  const emptyParts = [expected.rule, expected.level, expected.decoder].filter((x) => x === '').length;
  const exitZero = same && emptyParts === 0;
  const passed = c.expect === 'match' ? exitZero : !exitZero;
  return { case: c, passed, actual };
}

export interface WazuhSuiteSummary {
  total: number;
  passed: number;
  perFile: { file: string; total: number; passed: number }[];
  failures: WazuhCaseResult[];
}

export function runWazuhSuite(ruleset: LogRuleset, cases: WazuhCase[], includeGeoip = false): WazuhSuiteSummary {
  const perFile = new Map<string, { file: string; total: number; passed: number }>();
  const failures: WazuhCaseResult[] = [];
  let passed = 0;
  let total = 0;
  for (const c of cases) {
    if (c.geoip && !includeGeoip) continue;
    const r = runWazuhCase(ruleset, c);
    total++;
    const pf = perFile.get(c.file) ?? { file: c.file, total: 0, passed: 0 };
    perFile.set(c.file, pf);
    pf.total++;
    if (r.passed) {
      passed++;
      pf.passed++;
    } else failures.push(r);
  }
  return { total, passed, perFile: [...perFile.values()], failures };
}

export function loadWazuhSuiteRuleset(files: SourceFile[]): LoadResult<LogRuleset> {
  return loadLogRuleset(wazuhSuiteSources(files));
}
