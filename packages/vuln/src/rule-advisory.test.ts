import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parse } from 'yaml';
import { AdvisoryIndex } from './advisory-index.ts';
import type { InventoryItem } from './inventory-item.ts';
import { parseJavaArchive } from './inventory/java-archive.ts';
import { matchInventory } from './match-inventory.ts';
import { type RuleAffected, ruleAdvisoryRecord } from './rule-advisory.ts';
import { javaFixtureFiles, PATCHED_JAVA, VULNERABLE_JAVA } from './testing/java-fixtures.ts';
import { repoRoot } from './testing/shared-dir.ts';

const rulesDir = path.join(repoRoot, 'rules/ips');

test('rule metadata becomes OSV records; a bad affected list is an error', () => {
  const ok = ruleAdvisoryRecord('R-1', [{ ecosystem: 'npm', name: 'x', ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.0' }] }] }]);
  assert.equal(ok.ok, true);
  const bad = ruleAdvisoryRecord('R-2', [{ ecosystem: 'npm', name: 'x', ranges: [{ type: 'SEMVER', events: [] }] }], 'meta.yaml');
  assert.equal(bad.ok, false);
  assert.equal(bad.diagnostics[0]!.code, 'VULN_RULE_AFFECTED');
});

/** The shipped virtual-patch metadata (rules/ips/<CVE>/meta.yaml) loaded as a rule index. */
function ruleIndex(): AdvisoryIndex {
  const index = new AdvisoryIndex();
  for (const dir of readdirSync(rulesDir)) {
    const file = path.join(rulesDir, dir, 'meta.yaml');
    if (!existsSync(file)) continue;
    const meta = parse(readFileSync(file, 'utf8')) as { id: string; cves?: string[]; affected?: RuleAffected[] };
    if (!meta?.affected?.length) continue;
    const r = ruleAdvisoryRecord(meta.id, meta.affected, file, meta.cves ?? []);
    assert.ok(r.ok, JSON.stringify(r.diagnostics));
    index.add(r.value, file);
  }
  return index;
}

function javaItems(v: typeof VULNERABLE_JAVA): InventoryItem[] {
  return Object.entries(javaFixtureFiles(v)).flatMap(([rel, bytes]) => parseJavaArchive(bytes, `/${rel}`).items);
}

test('virtual patches recommended for the fixture app: assigned while vulnerable, gone once fixed', { skip: !existsSync(rulesDir) && 'no rules/ips' }, () => {
  const index = ruleIndex();
  const vulnerable = new Set(matchInventory(index, javaItems(VULNERABLE_JAVA)).map((f) => f.advisory.id));
  for (const id of ['CVE-2017-5638', 'CVE-2021-44228', 'CVE-2021-45046', 'CVE-2022-42889']) assert.ok(vulnerable.has(id), `${id} recommended`);
  const patched = new Set(matchInventory(index, javaItems(PATCHED_JAVA)).map((f) => f.advisory.id));
  for (const id of ['CVE-2017-5638', 'CVE-2021-44228', 'CVE-2021-45046', 'CVE-2022-42889']) assert.ok(!patched.has(id), `${id} removed after the fix`);
});
