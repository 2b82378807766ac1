import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { strToU8, zipSync } from 'fflate';

const main = fileURLToPath(new URL('../main.ts', import.meta.url));
const repoRoot = path.resolve(path.dirname(main), '../../..');
const shared = process.env.PALISADE_SHARED ?? path.resolve(repoRoot, '../shared');
const sample = path.join(shared, 'osv-sample');
const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8' });
const dir = mkdtempSync(path.join(tmpdir(), 'palisade-vulncli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const agentExportsCollector = typeof ((await import('@palisade/agent')) as Record<string, unknown>).collectInventory === 'function';

test('vuln match: OSV folder + all.zip + a corrupt file; JSON findings and --exit-code', { skip: !existsSync(sample) }, () => {
  const inventory = path.join(dir, 'inventory.json');
  writeFileSync(
    inventory,
    JSON.stringify({
      items: [
        { ecosystem: 'Maven', name: 'org.apache.struts:struts2-core', version: '2.3.31', purl: 'pkg:maven/org.apache.struts/struts2-core@2.3.31', location: '/opt/app/shop.war' },
        { ecosystem: 'npm', name: 'zip-only', version: '1.0.0', purl: 'pkg:npm/zip-only@1.0.0', location: '/srv/x' },
        { ecosystem: 'npm', name: 'lodash', version: '4.17.21', purl: 'pkg:npm/lodash@4.17.21', location: '/srv/x' },
      ],
    }),
  );
  const osvDir = path.join(dir, 'osv');
  mkdirSync(osvDir);
  writeFileSync(path.join(osvDir, 'corrupt.json'), '{"id": "BROKEN-1", ');
  const rec = { id: 'ZIP-1', modified: '2024-01-01T00:00:00Z', aliases: ['CVE-2099-0001'], affected: [{ package: { ecosystem: 'npm', name: 'zip-only' }, ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '1.0.1' }] }] }] };
  writeFileSync(path.join(dir, 'all.zip'), zipSync({ 'ZIP-1.json': strToU8(JSON.stringify(rec)) }));
  const r = cli('vuln', 'match', '--inventory', inventory, '--osv', sample, osvDir, path.join(dir, 'all.zip'), '--json', '--exit-code');
  assert.equal(r.status, 1, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.deepEqual(out.findings.map((f: { id: string; package: { name: string } }) => `${f.id} ${f.package.name}`).sort(), [
    'GHSA-j77q-2qqg-6989 org.apache.struts:struts2-core',
    'ZIP-1 zip-only',
  ]);
  const struts = out.findings.find((f: { id: string }) => f.id === 'GHSA-j77q-2qqg-6989');
  assert.ok(struts.aliases.includes('CVE-2017-5638'));
  assert.equal(struts.fixedVersion, '2.3.32');
  assert.equal(struts.severityLabel, 'CRITICAL');
  assert.equal(out.stats.advisories, 41);
  assert.equal(out.stats.skippedRecords, 1);
  assert.ok(out.diagnostics.some((d: { code: string; file: string }) => d.code === 'VULN_OSV_JSON' && d.file.endsWith('corrupt.json')));
});

test('vuln match: text output and exit status 0 without --exit-code', { skip: !existsSync(sample) }, () => {
  const inventory = path.join(dir, 'inv2.json');
  writeFileSync(inventory, JSON.stringify([{ ecosystem: 'PyPI', name: 'pyyaml', version: '5.3' }]));
  const r = cli('vuln', 'match', '--inventory', inventory, '--osv', sample);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /GHSA-8q59-q68h-6hv4 \(CVE-2020-14343\) CRITICAL 9\.8 {2}PyPI pyyaml 5\.3 -> fixed in 5\.4/);
  assert.match(r.stdout, /1 finding\(s\) in 1 package\(s\) against 40 advisories/);
});

test('vuln match: a malformed inventory is a usage error', () => {
  const inventory = path.join(dir, 'bad.json');
  writeFileSync(inventory, JSON.stringify({ items: [{ name: 'x' }] }));
  const r = cli('vuln', 'match', '--inventory', inventory, '--osv', dir);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /error VULN_INVENTORY_FILE: .*item 0 lacks ecosystem, name or version/);
});

test(
  'inventory collect --json on a fixture root, then vuln match on its output',
  { skip: (!agentExportsCollector && '@palisade/agent does not export collectInventory yet') || (!existsSync(sample) && 'no OSV sample') },
  () => {
    const root = path.join(dir, 'host');
    cpSync(path.join(repoRoot, 'packages/vuln/fixtures/vulnerable-host'), root, { recursive: true });
    const c = cli('inventory', 'collect', '--root', root, '--json');
    assert.equal(c.status, 0, c.stderr);
    const inventory = path.join(dir, 'collected.json');
    writeFileSync(inventory, c.stdout);
    const m = cli('vuln', 'match', '--inventory', inventory, '--osv', sample, '--json');
    assert.equal(m.status, 0, m.stderr);
    const ids = new Set(JSON.parse(m.stdout).findings.map((f: { id: string }) => f.id));
    for (const id of ['GHSA-j77q-2qqg-6989', 'GHSA-jfh8-c2jp-5v3q', 'DLA-3008-1', 'PYSEC-2021-98', 'GHSA-xvch-5gv4-984h']) assert.ok(ids.has(id), id);
  },
);

test('vuln compare orders versions per ecosystem', () => {
  const r = cli('vuln', 'compare', 'Debian:12', '1.2.3-1~deb12u1', '1.2.3-1');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '1.2.3-1~deb12u1 < 1.2.3-1\n');
  const bad = cli('vuln', 'compare', 'Nowhere', '1', '2');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /error VULN_UNKNOWN_ECOSYSTEM/);
});
