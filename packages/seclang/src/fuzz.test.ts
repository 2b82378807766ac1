import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crsDir, loadCrsRuleSet } from '../../../bench/ips/crs-disk.ts';
import { runFuzz } from '../../../bench/ips/fuzz-run.ts';

// The issue asks for 20,000 mutated requests; at CRS paranoia level 4 on the shared 2-core CI
// machine that is minutes, so npm test runs a bounded slice and `npm run fuzz:ips` the full count.
const COUNT = Number(process.env.PALISADE_FUZZ_COUNT ?? 2000);
// What this guards against is runaway backtracking: seconds to minutes per request (6.2 s and
// 130 s before the hybrid regex engine). Under a loaded CI machine a normal worst case of ~30 ms
// CPU reads up to ~60 ms, so the suite's limit is 250 ms; `npm run fuzz:ips` keeps 50 ms for
// measurements on a quiet machine.
const LIMIT_MS = 250;

test(`fuzz: ${COUNT} mutated requests through CRS PL4, no exception, none over ${LIMIT_MS} ms CPU`, { skip: !existsSync(join(crsDir, 'rules')) && 'CRS not found' }, () => {
  const ruleSet = loadCrsRuleSet('SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=4"\n');
  const r = runFuzz(ruleSet, 1, COUNT, LIMIT_MS);
  assert.equal(r.requests, COUNT);
  assert.deepEqual(r.errors, [], 'exceptions escaped the engine');
  assert.deepEqual(r.slow, [], `requests over ${LIMIT_MS} ms (replay with npm run fuzz:ips -- --seed S --count 1)`);
});

test('the fuzz generator is deterministic', async () => {
  const { fuzzRequest } = await import('../../../bench/ips/fuzz-requests.ts');
  assert.deepEqual(fuzzRequest(42), fuzzRequest(42));
  assert.notDeepEqual(fuzzRequest(42), fuzzRequest(43));
});
