import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppControlPolicy } from './app-control-policy.ts';
import { canonicalPackagePath, dpkgPackageOfInfoFile, parseDpkgMd5sums, parseRpmFileDigests } from './package-origin.ts';

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e';
const SHA = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

test('dpkg md5sums: package name from the file name, paths made absolute, junk lines counted', () => {
  assert.equal(dpkgPackageOfInfoFile('coreutils.md5sums'), 'coreutils');
  assert.equal(dpkgPackageOfInfoFile('libc6:amd64.md5sums'), 'libc6');
  assert.equal(dpkgPackageOfInfoFile('coreutils.list'), undefined);
  const { index, skipped } = parseDpkgMd5sums(`${MD5.toUpperCase()}  usr/bin/ls\n${MD5}  usr/share/doc/x y/z\nnot-a-line\n\n`, 'coreutils');
  assert.equal(skipped, 1);
  assert.deepEqual(index.get('/usr/bin/ls'), { manager: 'dpkg', name: 'coreutils', algo: 'md5', digest: MD5 });
  assert.ok(index.has('/usr/share/doc/x y/z'), 'paths with spaces');
});

test('rpm file digests: MD5 and SHA-256 kept, files without a digest and other algorithms skipped', () => {
  const text = [
    `/usr/bin/ls\t8\t${SHA}\tcoreutils`,
    `/usr/bin/old\t1\t${MD5}\tlegacy`,
    '/usr/share/doc/coreutils\t8\t\tcoreutils',
    `/usr/bin/sha1\t2\t${'a'.repeat(40)}\tx`,
    '',
  ].join('\n');
  const { index, skipped } = parseRpmFileDigests(text);
  assert.equal(skipped, 2);
  assert.deepEqual(index.get('/usr/bin/ls'), { manager: 'rpm', name: 'coreutils', algo: 'sha256', digest: SHA });
  assert.equal(index.get('/usr/bin/old')?.algo, 'md5');
});

test('usr-merge: package paths follow the top-level symlinks', () => {
  const aliases = new Map([['/bin', '/usr/bin']]);
  assert.equal(canonicalPackagePath('/bin/ls', aliases), '/usr/bin/ls');
  assert.equal(canonicalPackagePath('/binaries/x', aliases), '/binaries/x');
  assert.equal(canonicalPackagePath('/usr/bin/ls', aliases), '/usr/bin/ls');
});

test('allow by origin: an intact package file runs without a baseline; a modified one is unknown; explicit rules win', () => {
  const A = 'a'.repeat(64);
  const pkg = { manager: 'dpkg' as const, name: 'coreutils', intact: true };
  const p = new AppControlPolicy({ rulesets: [], trustPackages: true });
  assert.deepEqual(p.decide({ path: '/usr/bin/ls', sha256: A, package: pkg }), { verdict: 'allow', source: 'package' });
  assert.equal(p.decide({ path: '/usr/bin/ls', sha256: A, package: { ...pkg, intact: false } }).verdict, 'unknown');
  assert.equal(p.needsPackageFacts, true);
  // Trust only turns unknown into allow: an allowed or blocked verdict needs no lookup.
  assert.equal(p.packageFactsMatter({ verdict: 'unknown', source: 'none' }), true);
  assert.equal(p.packageFactsMatter({ verdict: 'allow', source: 'baseline' }), false);
  const withRule = new AppControlPolicy({
    rulesets: [{ id: 's', name: 's', scope: 'shared', rules: [{ kind: 'package', name: 'nc*', action: 'block' }] }],
  });
  assert.equal(withRule.packageFactsMatter({ verdict: 'allow', source: 'baseline' }), true);
  assert.equal(withRule.packageFactsMatter({ verdict: 'block', source: 'hash' }), false);
  // Trust adds allows only: the content-allowed shortcut stays valid.
  assert.deepEqual(p.contentAllowed(), []);
  const blocked = new AppControlPolicy({
    rulesets: [{ id: 's', name: 's', scope: 'shared', rules: [{ kind: 'hash', sha256: A, action: 'block' }] }],
    trustPackages: true,
  });
  assert.equal(blocked.decide({ path: '/usr/bin/ls', sha256: A, package: pkg }).verdict, 'block');
  assert.equal(new AppControlPolicy({ rulesets: [] }).decide({ path: '/usr/bin/ls', sha256: A, package: pkg }).verdict, 'unknown');
});
