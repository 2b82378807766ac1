import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { AdvisoryIndex } from './advisory-index.ts';
import type { InventoryItem } from './inventory-item.ts';
import { parseApkInstalled } from './inventory/apk-installed.ts';
import { parseDpkgStatus } from './inventory/dpkg-status.ts';
import { parseJavaArchive } from './inventory/java-archive.ts';
import { parseComposerLock } from './inventory/lockfile-packages.ts';
import { parseNodePackageJson, parsePackageLock } from './inventory/npm-packages.ts';
import { parseOsRelease } from './inventory/os-release.ts';
import { parsePythonMetadata } from './inventory/python-metadata.ts';
import { type Finding, matchInventory } from './match-inventory.ts';
import { javaFixtureFiles, PATCHED_JAVA, VULNERABLE_JAVA } from './testing/java-fixtures.ts';
import { loadOsvSample, osvSampleDir } from './testing/load-sample.ts';
import { repoRoot } from './testing/shared-dir.ts';

const fixtures = path.join(repoRoot, 'packages/vuln/fixtures');
const read = (root: string, rel: string) => readFileSync(path.join(fixtures, root, rel), 'utf8');
const skip = !existsSync(osvSampleDir) && 'shared OSV sample not present';

/** Inventory of a fixture host from explicit files (the agent's collector finds them by walking). */
function hostInventory(root: 'vulnerable-host' | 'patched-host'): InventoryItem[] {
  const os = parseOsRelease(read(root, 'etc/os-release'));
  const items: InventoryItem[] = [];
  items.push(...parseDpkgStatus(read(root, 'var/lib/dpkg/status'), '/var/lib/dpkg/status', { ecosystem: os.ecosystem! }).items);
  items.push(...parsePackageLock(read(root, 'srv/shop-frontend/package-lock.json'), '/srv/shop-frontend/package-lock.json').items);
  items.push(...parseNodePackageJson(read(root, 'opt/tools/node_modules/lodash/package.json'), '/opt/tools/node_modules/lodash/package.json').items);
  const sp = 'opt/venv/lib/python3.8/site-packages';
  const py = root === 'vulnerable-host'
    ? ['PyYAML-5.3.1.dist-info/METADATA', 'urllib3-1.25.8.dist-info/METADATA', 'Django-3.2.3.dist-info/METADATA', 'Flask_Cors-3.0.8.dist-info/METADATA', 'requests-2.31.0.dist-info/METADATA', 'Flask-2.3.2.dist-info/METADATA', 'pandas-1.0.3-py3.8.egg-info/PKG-INFO']
    : ['PyYAML-5.4.dist-info/METADATA', 'urllib3-1.25.9.dist-info/METADATA', 'Django-3.2.4.dist-info/METADATA', 'Flask_Cors-3.0.9.dist-info/METADATA', 'requests-2.31.0.dist-info/METADATA', 'Flask-2.3.2.dist-info/METADATA', 'pandas-1.0.4-py3.8.egg-info/PKG-INFO'];
  for (const f of py) items.push(...parsePythonMetadata(read(root, `${sp}/${f}`), `/${sp}/${f}`).items);
  items.push(...parseComposerLock(read(root, 'var/www/drupal/composer.lock'), '/var/www/drupal/composer.lock').items);
  const java = javaFixtureFiles(root === 'vulnerable-host' ? VULNERABLE_JAVA : PATCHED_JAVA);
  for (const [rel, bytes] of Object.entries(java)) items.push(...parseJavaArchive(bytes, `/${rel}`).items);
  return items;
}

function pairs(findings: Finding[]): string[] {
  return findings.map((f) => `${f.advisory.id} ${f.item.name}@${f.item.version}`).sort();
}

let sample: AdvisoryIndex | undefined;
function index(): AdvisoryIndex {
  sample ??= loadOsvSample().index;
  return sample;
}

test('vulnerable Debian 9 host with app folder, node project, venv and composer project: exactly the expected advisories', { skip }, () => {
  const findings = matchInventory(index(), hostInventory('vulnerable-host'));
  assert.deepEqual(pairs(findings), [
    'DLA-3008-1 libssl1.1@1.1.0l-1~deb9u5', // via Source: openssl
    'DLA-3008-1 openssl@1.1.0l-1~deb9u5',
    'DLA-3012-1 libxml2@2.9.4+dfsg1-2.2+deb9u6',
    'DRUPAL-CONTRIB-2025-083 drupal/simple_sitemap@4.2.1', // ecosystem `Packagist:https://packages.drupal.org/8`
    'DRUPAL-CORE-2025-005 drupal/core@10.4.8',
    'DRUPAL-CORE-2026-001 drupal/core@10.4.8',
    'GHSA-35jh-r3h4-6jhm lodash@4.17.11',
    'GHSA-35jh-r3h4-6jhm lodash@4.17.15',
    'GHSA-3pxv-7cmr-fjr4 org.apache.logging.log4j:log4j-core@2.14.1',
    'GHSA-599f-7c49-w659 org.apache.commons:commons-text@1.9',
    'GHSA-7rjr-3q55-vv33 org.apache.logging.log4j:log4j-core@2.14.1',
    'GHSA-8q59-q68h-6hv4 PyYAML@5.3.1',
    'GHSA-9f46-5r25-5wfm league/flysystem@1.1.3',
    'GHSA-j77q-2qqg-6989 org.apache.struts:struts2-core@2.3.31',
    'GHSA-jf85-cpcp-j695 lodash@4.17.11',
    'GHSA-jfh8-c2jp-5v3q org.apache.logging.log4j:log4j-core@2.14.1',
    'GHSA-p6mc-m468-83gw lodash@4.17.11',
    'GHSA-p6mc-m468-83gw lodash@4.17.15',
    'GHSA-whgm-jr23-g3j9 ansi-html@0.0.7',
    'GHSA-xvch-5gv4-984h minimist@1.2.5',
    'PYSEC-2020-148 urllib3@1.25.8',
    'PYSEC-2020-43 Flask-Cors@3.0.8',
    'PYSEC-2020-73 pandas@1.0.3',
    'PYSEC-2021-98 Django@3.2.3',
  ]);
  const struts = findings.find((f) => f.advisory.id === 'GHSA-j77q-2qqg-6989')!;
  assert.ok(struts.advisory.aliases.includes('CVE-2017-5638'));
  assert.equal(struts.fixedVersion, '2.3.32');
  assert.equal(struts.item.location, '/opt/app/webapps/shop.war!WEB-INF/lib/struts2-core-2.3.31.jar');
  assert.equal(struts.item.purl, 'pkg:maven/org.apache.struts/struts2-core@2.3.31');
  const log4shell = findings.find((f) => f.advisory.id === 'GHSA-jfh8-c2jp-5v3q')!;
  assert.equal(log4shell.fixedVersion, '2.15.0');
  assert.equal(log4shell.severityScore, 10);
  assert.equal(log4shell.severityLabel, 'CRITICAL');
  const openssl = findings.find((f) => f.item.name === 'libssl1.1')!;
  assert.equal(openssl.matchedName, 'openssl');
  assert.equal(openssl.fixedVersion, '1.1.0l-1~deb9u6');
  assert.ok(openssl.advisory.aliases.includes('CVE-2022-1292'), 'CVE ids in `upstream` are reported as aliases');
});

test('patched host: no advisory for fixed versions', { skip }, () => {
  const items = hostInventory('patched-host');
  assert.ok(items.length >= 20);
  assert.deepEqual(pairs(matchInventory(index(), items)), []);
});

test('Ubuntu 14.04: bash before and after the Shellshock fix', { skip }, () => {
  for (const [root, want] of [
    ['ubuntu-14.04-vulnerable', ['UBUNTU-CVE-2014-6271 bash@4.3-7ubuntu1', 'USN-2362-1 bash@4.3-7ubuntu1']],
    ['ubuntu-14.04-patched', []],
  ] as const) {
    const os = parseOsRelease(read(root, 'etc/os-release'));
    assert.equal(os.ecosystem, 'Ubuntu:14.04:LTS');
    const items = parseDpkgStatus(read(root, 'var/lib/dpkg/status'), 'status', { ecosystem: os.ecosystem! }).items;
    // apache2 advisories exist only for 18.04 and 20.04, so 14.04's apache2 must not match.
    assert.deepEqual(pairs(matchInventory(index(), items)), want);
  }
});

test('Alpine 3.18: musl by origin package, fixed per branch', { skip }, () => {
  for (const [root, want] of [
    ['alpine-3.18-vulnerable', ['ALPINE-CVE-2025-26519 musl-utils@1.2.4-r2', 'ALPINE-CVE-2025-26519 musl@1.2.4-r2']],
    ['alpine-3.18-patched', []],
  ] as const) {
    const os = parseOsRelease(read(root, 'etc/os-release'));
    assert.equal(os.ecosystem, 'Alpine:v3.18');
    const items = parseApkInstalled(read(root, 'lib/apk/db/installed'), 'installed', { ecosystem: os.ecosystem! }).items;
    const got = matchInventory(index(), items);
    assert.deepEqual(pairs(got), want);
    for (const f of got) assert.equal(f.fixedVersion, '1.2.4-r3');
  }
});

test('release filter: a Debian 7 advisory does not match a Debian 9 host unless asked', { skip }, () => {
  const item: InventoryItem = { ecosystem: 'Debian', name: 'nginx', version: '1.2.1-2.2+wheezy2', purl: 'pkg:deb/debian/nginx', location: 'x' };
  assert.deepEqual(pairs(matchInventory(index(), [{ ...item, ecosystem: 'Debian:9' }])), []);
  assert.deepEqual(pairs(matchInventory(index(), [item])), []);
  assert.deepEqual(pairs(matchInventory(index(), [item], { anyReleaseWhenUnknown: true })), ['DSA-3029-1 nginx@1.2.1-2.2+wheezy2']);
});

test('Go, Packagist and explicit versions lists', { skip }, () => {
  const items: InventoryItem[] = [
    { ecosystem: 'Go', name: 'stdlib', version: '1.18.1', purl: '', location: 'bin' },
    { ecosystem: 'Go', name: 'golang.org/x/sys', version: '0.0.0-20220412211240-33da011f77ad', purl: '', location: 'bin' },
    { ecosystem: 'Go', name: 'github.com/opencontainers/runc', version: 'v1.0.2', purl: '', location: 'bin' },
    { ecosystem: 'Packagist', name: 'league/flysystem', version: '1.1.3', purl: '', location: 'composer.lock' },
    { ecosystem: 'Packagist', name: 'drupal/core', version: '10.4.8', purl: '', location: 'composer.lock' },
    { ecosystem: 'Maven', name: 'junit:junit', version: '4.12', purl: '', location: 'x.jar' },
    { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version: '3.0.0-beta2', purl: '', location: 'y.jar' },
  ];
  assert.deepEqual(pairs(matchInventory(index(), items)), [
    'DRUPAL-CORE-2025-005 drupal/core@10.4.8',
    'DRUPAL-CORE-2026-001 drupal/core@10.4.8',
    'GHSA-269g-pwp5-87pp junit:junit@4.12',
    'GHSA-3pxv-7cmr-fjr4 org.apache.logging.log4j:log4j-core@3.0.0-beta2',
    'GHSA-9f46-5r25-5wfm league/flysystem@1.1.3',
    'GO-2022-0274 github.com/opencontainers/runc@v1.0.2',
    'GO-2022-0493 stdlib@1.18.1',
  ]);
});

test('a newer copy of an advisory replaces the older one; withdrawn ones are ignored', () => {
  const idx = new AdvisoryIndex();
  const rec = (modified: string, fixed: string, withdrawn?: string) => ({
    id: 'T-1',
    modified,
    ...(withdrawn ? { withdrawn } : {}),
    affected: [{ package: { ecosystem: 'npm', name: 'pkg' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
  });
  const item: InventoryItem = { ecosystem: 'npm', name: 'pkg', version: '1.5.0', purl: '', location: '' };
  idx.add(rec('2024-01-01T00:00:00Z', '2.0.0'));
  assert.equal(matchInventory(idx, [item]).length, 1);
  idx.add(rec('2024-02-01T00:00:00Z', '1.2.0'));
  assert.equal(matchInventory(idx, [item]).length, 0);
  idx.add(rec('2023-01-01T00:00:00Z', '9.0.0'));
  assert.equal(matchInventory(idx, [item]).length, 0, 'an older copy does not win');
  assert.equal(idx.size, 1);
  const w = new AdvisoryIndex();
  w.add(rec('2024-01-01T00:00:00Z', '2.0.0', '2024-01-02T00:00:00Z'));
  assert.equal(matchInventory(w, [item]).length, 0);
});

test('PyPI names match across case and separator spelling (PEP 503)', () => {
  const idx = new AdvisoryIndex();
  idx.add({ id: 'P-1', modified: 'x', affected: [{ package: { ecosystem: 'PyPI', name: 'Flask_CORS' }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '3.0.9' }] }] }] });
  const item: InventoryItem = { ecosystem: 'PyPI', name: 'flask.cors', version: '3.0.8', purl: '', location: '' };
  assert.equal(matchInventory(idx, [item]).length, 1);
});

test('release spellings: Ubuntu Pro and Red Hat streams meet os-release values', () => {
  const idx = new AdvisoryIndex();
  const rec = (id: string, ecosystem: string, name: string, fixed: string) => ({
    id,
    modified: 'x',
    affected: [{ package: { ecosystem, name }, ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed }] }] }],
  });
  idx.add(rec('RHSA-1', 'Red Hat:enterprise_linux:9::appstream', 'openssl-libs', '1:3.0.7-28.el9'));
  idx.add(rec('RHSA-2', 'Red Hat:rhel_eus:8.6::baseos', 'openssl-libs', '1:1.1.1k-9.el8_6'));
  idx.add(rec('USN-P', 'Ubuntu:Pro:18.04:LTS', 'bash', '4.4.18-2ubuntu1.3+esm1'));
  const item = (ecosystem: string, name: string, version: string): InventoryItem => ({ ecosystem, name, version, purl: '', location: '' });
  assert.deepEqual(pairs(matchInventory(idx, [item('Red Hat:9', 'openssl-libs', '1:3.0.7-27.el9')])), ['RHSA-1 openssl-libs@1:3.0.7-27.el9']);
  assert.deepEqual(pairs(matchInventory(idx, [item('Red Hat:8', 'openssl-libs', '1:1.1.1k-7.el8_6')])), ['RHSA-2 openssl-libs@1:1.1.1k-7.el8_6']);
  assert.deepEqual(pairs(matchInventory(idx, [item('Ubuntu:18.04:LTS', 'bash', '4.4.18-2ubuntu1.2')])), ['USN-P bash@4.4.18-2ubuntu1.2']);
  assert.deepEqual(pairs(matchInventory(idx, [item('Ubuntu:20.04:LTS', 'bash', '4.4.18-2ubuntu1.2')])), []);
});
