import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replayCrowdSec } from '../apps/agent/src/modules/ips/crowdsec-replay.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared');
const testsDir = join(shared, 'crowdsec-hub-appsec/appsec-tests');

// Guard subset of the full replay (`node --import tsx bench/ips-proxy/crowdsec-replay.ts`,
// 201/211 fully blocked, 0/520 benign blocked, recorded in docs/virtual-patches.md): every third
// template in name order and the first 180 benign requests, through the real proxy with the pack
// and CRS PL1. It fails when the result gets worse than recorded for this subset.
const RECORDED_SUBSET_TEMPLATES = 71;
const RECORDED_SUBSET_FULLY_BLOCKED = 68;

test('CrowdSec hub replay guard subset (pack + CRS PL1) does not regress', {
  skip: !existsSync(testsDir) && 'shared suite not present',
  timeout: 240_000,
}, async () => {
  const names = readdirSync(testsDir)
    .filter((n) => !n.endsWith('.yaml'))
    .sort();
  const pick = new Set(names.filter((_, i) => i % 3 === 0));
  const r = await replayCrowdSec({
    testsDir,
    packDir: join(repoRoot, 'rules/ips'),
    crsDir: join(shared, 'crs'),
    paranoia: 1,
    only: (n) => pick.has(n),
    benignCount: 180,
    now: () => performance.now(),
  });
  const full = r.templates.filter((t) => t.fullyBlocked).length;
  assert.equal(r.templates.length, RECORDED_SUBSET_TEMPLATES);
  assert.ok(
    full >= RECORDED_SUBSET_FULLY_BLOCKED,
    `fully blocked ${full} < recorded ${RECORDED_SUBSET_FULLY_BLOCKED}: ${r.templates
      .filter((t) => !t.fullyBlocked)
      .map((t) => t.name)
      .join(', ')}`,
  );
  assert.equal(r.benign.total, 180);
  assert.deepEqual(r.benign.blocked, [], 'no benign request is blocked');
});
