import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadIntegrityRules } from './load-integrity-rules.ts';

const FILE = 0o100644;
const SUID = 0o104755;
const DIR = 0o040755;

function load(extra = '') {
  const r = loadIntegrityRules(`rules:
  - id: usr
    paths: [/usr]
    exclude: ['**/*.pyc', 'share/doc']
  - id: usr-bin
    paths: [/usr/bin]
    severity: high
  - id: shallow
    paths: [/srv]
    depth: 1
  - id: only-conf
    paths: [/opt/app]
    include: ['**/*.conf']
  - id: setid
    paths: [/]
    exclude: [/proc]
    filter: setid
    severity: critical
${extra}`);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
}
const rules = load();
// Without a rule on / the walker can skip excluded and too-deep subtrees.
const noSetid = loadIntegrityRules(`rules:
  - id: usr
    paths: [/usr]
    exclude: ['**/*.pyc', 'share/doc']
  - id: shallow
    paths: [/srv]
    depth: 1
`);
assert.ok(noSetid.ok);

test('the most specific root claims a path', () => {
  assert.equal(rules.ruleForPath('/usr/lib/x.so', FILE)?.id, 'usr');
  assert.equal(rules.ruleForPath('/usr/bin/ls', FILE)?.id, 'usr-bin');
  assert.equal(rules.ruleForPath('/usr/bin', DIR, true)?.id, 'usr-bin');
  assert.equal(rules.ruleForPath('/usrx/a', FILE), undefined);
});

test('excludes prune files and whole subtrees', () => {
  assert.equal(rules.ruleForPath('/usr/lib/a.pyc', FILE), undefined);
  assert.equal(rules.ruleForPath('/usr/share/doc/x/README', FILE), undefined);
  assert.equal(noSetid.value.shouldDescend('/usr/share/doc'), false);
  assert.equal(noSetid.value.shouldDescend('/usr/share'), true);
  // A set-id rule on / must still see inside excluded directories of other rules.
  assert.equal(rules.shouldDescend('/usr/share/doc'), true);
});

test('depth limits recursion', () => {
  assert.equal(rules.ruleForPath('/srv', DIR, true)?.id, 'shallow');
  assert.equal(rules.ruleForPath('/srv/a', FILE)?.id, 'shallow');
  assert.equal(rules.ruleForPath('/srv/a/b', FILE), undefined);
  assert.equal(noSetid.value.shouldDescend('/srv'), true);
  assert.equal(noSetid.value.shouldDescend('/srv/a'), false);
});

test('include keeps only matching files but still walks directories', () => {
  assert.equal(rules.ruleForPath('/opt/app/etc/main.conf', FILE)?.id, 'only-conf');
  assert.equal(rules.ruleForPath('/opt/app/bin/tool', FILE), undefined);
  assert.equal(rules.ruleForPath('/opt/app/etc', DIR, true)?.id, 'only-conf');
});

test('a SUID/SGID filter rule claims set-id files anywhere, ahead of the directory rule', () => {
  assert.equal(rules.ruleForPath('/usr/bin/passwd', SUID)?.id, 'setid');
  assert.equal(rules.ruleForPath('/home/u/evil', SUID)?.id, 'setid');
  assert.equal(rules.ruleForPath('/home/u/plain', FILE), undefined);
  assert.equal(rules.ruleForPath('/proc/1/exe', SUID), undefined);
  assert.equal(rules.ruleForPath('/tmp/dir', DIR | 0o2000, true), undefined);
});
