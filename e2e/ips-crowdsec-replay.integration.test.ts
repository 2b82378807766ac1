import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { replayCrowdSec } from '../apps/agent/src/modules/ips/crowdsec-replay.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const shared = process.env.PALISADE_SHARED ?? resolve(repoRoot, '../shared');
const testsDir = join(shared, 'crowdsec-hub-appsec/appsec-tests');

// Guard for the recorded results in docs/virtual-patches.md: the full replay (211 templates and
// 520 benign requests through the real proxy, pack + CRS PL1) must not get worse.
const RECORDED_FULLY_BLOCKED = 201;
const RECORDED_BENIGN_BLOCKED = 0;

test('CrowdSec hub replay through the proxy (pack + CRS PL1) does not regress', { skip: !existsSync(testsDir) && 'shared suite not present', timeout: 240_000 }, async () => {
  const r = await replayCrowdSec({ testsDir, packDir: join(repoRoot, 'rules/ips'), crsDir: join(shared, 'crs'), paranoia: 1, now: () => performance.now() });
  const full = r.templates.filter((t) => t.fullyBlocked).length;
  assert.equal(r.templates.length, 211);
  assert.ok(full >= RECORDED_FULLY_BLOCKED, `fully blocked ${full} < recorded ${RECORDED_FULLY_BLOCKED}`);
  assert.equal(r.benign.total, 520);
  assert.ok(r.benign.blocked.length <= RECORDED_BENIGN_BLOCKED, `benign blocked ${r.benign.blocked.length} > recorded ${RECORDED_BENIGN_BLOCKED}: ${r.benign.blocked.map((b) => b.id).join(', ')}`);
});
