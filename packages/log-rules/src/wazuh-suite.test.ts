import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SourceFile } from './log-ruleset.ts';
import { loadWazuhSuiteRuleset, parseWazuhCases, runWazuhSuite } from './wazuh-suite.ts';

/** Recorded in docs/log-rules.md; the guard fails when the engine passes fewer cases. */
const RECORDED_PASSED = 1770;
const RECORDED_TOTAL = 1770;

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const suiteDir = join(process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared'), 'wazuh-ruleset');

function readTree(dir: string, prefix: string): SourceFile[] {
  const out: SourceFile[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: `${prefix}/${relative(dir, p)}`, text: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

test('the Wazuh 4.14 logtest suite passes at least at the recorded rate', () => {
  const files = [...readTree(join(suiteDir, 'ruleset'), 'ruleset'), ...readTree(join(suiteDir, 'etc'), 'etc')];
  const loaded = loadWazuhSuiteRuleset(files);
  assert.ok(loaded.ok, 'the Wazuh ruleset must load');
  const cases = parseWazuhCases(readFileSync(join(suiteDir, 'cases.jsonl'), 'utf8'));
  const summary = runWazuhSuite(loaded.value, cases);
  assert.equal(summary.total, RECORDED_TOTAL);
  const failures = summary.failures.map((f) => `${f.case.file} [${f.case.section.trim()}] ${f.case.key}: got ${JSON.stringify(f.actual)}`);
  assert.ok(
    summary.passed >= RECORDED_PASSED,
    `passed ${summary.passed}/${summary.total}, recorded ${RECORDED_PASSED}:\n${failures.join('\n')}`,
  );
});
