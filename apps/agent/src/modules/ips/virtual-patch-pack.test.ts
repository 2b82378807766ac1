import assert from 'node:assert/strict';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatDiagnostic } from '@palisade/diagnostics';
import { inspectRequest } from '@palisade/ips-middleware';
import { loadRuleSet, RECOMMENDED_BASE_CONFIG, type RuleSet } from '@palisade/seclang';
import { readPatchPack } from './read-patch-pack.ts';
import type { ReplayRequest } from './replay-request.ts';
import { loadVirtualPatch, type VirtualPatch } from './virtual-patch-pack.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../../..');
const packRoot = resolve(repoRoot, 'rules/ips');

function verdict(rs: RuleSet, r: ReplayRequest) {
  const body = Buffer.from(r.body, 'utf8');
  const headers = r.headers.map(([k, v]): [string, string] => [k, Buffer.from(v, 'utf8').toString('latin1')]);
  if (body.length && !headers.some(([k]) => k.toLowerCase() === 'content-length')) headers.push(['Content-Length', String(body.length)]);
  return inspectRequest(
    rs,
    { method: r.method, uri: Buffer.from(r.uri, 'utf8').toString('latin1'), headers, peerAddress: '192.0.2.10', peerPort: 40000 },
    body,
  );
}

const patches: VirtualPatch[] = [];
const files = readPatchPack(packRoot);

test('the pack covers at least 40 CVE folders and every folder validates', () => {
  assert.ok(files.length >= 40, `only ${files.length} patches`);
  const problems: string[] = [];
  for (const f of files) {
    const r = loadVirtualPatch(f);
    if (r.ok) patches.push(r.value);
    else problems.push(...r.diagnostics.map(formatDiagnostic));
  }
  assert.deepEqual(problems, []);
  const ids = patches.flatMap((p) => p.meta.ruleIds);
  assert.equal(new Set(ids).size, ids.length, 'rule ids are unique across the pack');
});

test('each patch blocks its exploits with its own rule and passes its benign requests', () => {
  const failures: string[] = [];
  for (const p of patches) {
    const rs = loadRuleSet([
      { name: 'base', text: RECOMMENDED_BASE_CONFIG },
      { name: `${p.dir}/rule.conf`, text: p.ruleConf },
    ]);
    if (!rs.ok) {
      failures.push(...rs.diagnostics.map(formatDiagnostic));
      continue;
    }
    for (const e of p.exploits) {
      const v = verdict(rs.value, e);
      if (!v.interruption || v.interruption.status !== 403 || !p.meta.ruleIds.includes(v.interruption.ruleId))
        failures.push(`${e.id}: not blocked by the patch (${JSON.stringify(v.interruption)})`);
    }
    for (const b of p.benign) {
      const v = verdict(rs.value, b);
      if (v.interruption) failures.push(`${b.id}: benign request blocked by ${v.interruption.ruleId}`);
    }
  }
  assert.deepEqual(failures, []);
});

test('the whole pack loaded together blocks no benign fixture of any patch', () => {
  const rs = loadRuleSet([
    { name: 'base', text: RECOMMENDED_BASE_CONFIG },
    ...patches.map((p) => ({ name: `${p.dir}/rule.conf`, text: p.ruleConf })),
  ]);
  assert.ok(rs.ok, rs.ok ? '' : rs.diagnostics.map(formatDiagnostic).join('\n'));
  const blocked = patches
    .flatMap((p) => p.benign)
    .filter((b) => verdict(rs.value, b).interruption)
    .map((b) => b.id);
  assert.deepEqual(blocked, []);
  const missed = patches
    .flatMap((p) => p.exploits)
    .filter((e) => !verdict(rs.value, e).interruption)
    .map((e) => e.id);
  assert.deepEqual(missed, []);
});

test('metadata validation rejects a broken folder with located diagnostics', () => {
  const f = files[0]!;
  const bad = loadVirtualPatch({
    ...f,
    metaYaml: f.metaYaml.replace(/score: [\d.]+/, 'score: 11').replace('ecosystem: ', 'ecosystem: Nope'),
    tests: {},
  });
  assert.equal(bad.ok, false);
  assert.ok(bad.diagnostics.every((d) => d.file?.startsWith(f.dir)));
  const noTests = loadVirtualPatch({ ...f, tests: {} });
  assert.equal(noTests.ok, false);
  assert.ok(noTests.diagnostics.some((d) => d.code === 'IPS_FIXTURE_MISSING'));
});
