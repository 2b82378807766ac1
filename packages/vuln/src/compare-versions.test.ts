import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { compareVersions } from './compare-versions.ts';
import { sharedDir } from './testing/shared-dir.ts';

const dir = path.join(sharedDir, 'version-ordering');

// File -> the OSV ecosystems upstream runs it against (SOURCE.md).
const FILES: Record<string, string[]> = {
  'semver-versions.txt': ['npm', 'Go', 'crates.io'],
  'nuget-versions.txt': ['NuGet'],
  'maven-versions.txt': ['Maven'],
  'maven-versions-generated.txt': ['Maven'],
  'pypi-versions.txt': ['PyPI'],
  'pypi-versions-generated.txt': ['PyPI'],
  'debian-versions.txt': ['Debian:12', 'Ubuntu:22.04:LTS'],
  'debian-versions-generated.txt': ['Debian'],
  'redhat-versions.txt': ['Red Hat'],
  'alpine-versions.txt': ['Alpine'],
  'alpine-versions-generated.txt': ['Alpine:v3.18'],
  'packagist-versions.txt': ['Packagist'],
  'packagist-versions-generated.txt': ['Packagist'],
  'rubygems-versions.txt': ['RubyGems'],
  'rubygems-versions-generated.txt': ['RubyGems'],
  'cran-versions.txt': ['CRAN'],
  'cran-versions-generated.txt': ['CRAN'],
  'pub-versions.txt': ['Pub'],
  'hackage-versions.txt': ['Hackage'],
};

const SIGN: Record<string, number> = { '<': -1, '=': 0, '>': 1 };

function checkCases(ecosystem: string, cases: [string, number, string, number][]): string[] {
  const failures: string[] = [];
  for (const [a, want, b, line] of cases) {
    const got = compareVersions(ecosystem, a, b);
    const back = compareVersions(ecosystem, b, a);
    if (got !== want || back !== -want) failures.push(`line ${line}: ${a} vs ${b}: want ${want}, got ${got}/${-back}`);
  }
  return failures;
}

test('every version-ordering file of the shared suite is covered by this test', { skip: !existsSync(dir) }, () => {
  const present = readdirSync(dir).filter((f) => f.endsWith('.txt'));
  for (const f of present) assert.ok(f in FILES, `${f} has no ecosystem mapping`);
});

for (const [file, ecosystems] of Object.entries(FILES)) {
  const full = path.join(dir, file);
  test(`version ordering vectors: ${file}`, { skip: !existsSync(full) && 'shared suite not present' }, () => {
    const cases: [string, number, string, number][] = [];
    readFileSync(full, 'utf8')
      .split('\n')
      .forEach((raw, i) => {
        const line = raw.trimEnd();
        if (line === '' || line.startsWith('#') || line.startsWith('//')) return;
        const [a, op, b] = line.split(' ');
        assert.ok(a && op && b && op in SIGN, `${file}:${i + 1}: unparsable line`);
        cases.push([a, SIGN[op]!, b, i + 1]);
      });
    assert.ok(cases.length > 5, 'the file yielded almost no cases');
    for (const eco of ecosystems) {
      const failures = checkCases(eco, cases);
      assert.deepEqual(failures.slice(0, 20), [], `${eco}: ${failures.length} of ${cases.length} failed`);
    }
  });
}

test('version ordering vectors: apt-dpkg/versions.lst', { skip: !existsSync(path.join(dir, 'apt-dpkg/versions.lst')) }, () => {
  const cases: [string, number, string, number][] = [];
  readFileSync(path.join(dir, 'apt-dpkg/versions.lst'), 'utf8')
    .split('\n')
    .forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const [a, b, ret] = line.split(/\s+/);
      cases.push([a!, Number(ret), b!, i + 1]);
    });
  assert.equal(cases.length, 64);
  assert.deepEqual(checkCases('Debian', cases), []);
});

test('unknown ecosystems are refused rather than guessed', () => {
  assert.throws(() => compareVersions('Nonexistent', '1', '2'), /no version ordering/);
});
