import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { crsDir, listFiles, loadCrsRuleSet } from '../../../bench/ips/crs-disk.ts';
import { CRS_TEST_SETUP, type FtwFile, runFtwTest } from './index.ts';

// Every 4th test file of the CRS regression suite (sorted, so the subset is stable and spans all
// rule families). The full suite runs with `npm run conformance:crs`; docs/seclang.md records both.
const SUBSET_STRIDE = 4;
// Pass rate of this subset when it was recorded (see docs/seclang.md); the test fails below it.
const RECORDED_SUBSET_RATE = 1;

const testsDir = join(crsDir, 'tests', 'regression', 'tests');

test('CRS regression subset keeps its recorded pass rate', { skip: !existsSync(testsDir) && 'CRS suite not found' }, () => {
  const ruleSet = loadCrsRuleSet(CRS_TEST_SETUP);
  const files = listFiles(testsDir, /\.ya?ml$/).filter((_, i) => i % SUBSET_STRIDE === 0);
  let total = 0;
  let passed = 0;
  const failures: string[] = [];
  for (const f of files) {
    const doc = parse(readFileSync(f, 'utf8')) as FtwFile | null;
    for (const t of doc?.tests ?? []) {
      total++;
      const v = runFtwTest(ruleSet, t);
      if (v.pass) passed++;
      else failures.push(`${relative(testsDir, f)} #${t.test_id}: ${v.reasons.join('; ')}`);
    }
  }
  const rate = passed / total;
  assert.ok(total > 1000, `subset too small: ${total}`);
  assert.ok(rate >= RECORDED_SUBSET_RATE, `pass rate ${(rate * 100).toFixed(2)}% (${passed}/${total}) below recorded ${RECORDED_SUBSET_RATE * 100}%:\n${failures.join('\n')}`);
  console.log(`CRS subset: ${passed}/${total} (${(rate * 100).toFixed(2)}%)`);
});
