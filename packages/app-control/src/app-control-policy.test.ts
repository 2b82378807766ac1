import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppControlPolicy } from './app-control-policy.ts';
import type { Ruleset } from './app-control-rule.ts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

function rs(id: string, scope: 'shared' | 'local', rules: Ruleset['rules']): Ruleset {
  return { id, name: id, scope, rules };
}

test('nothing matched is unknown; the baseline allows', () => {
  const p = new AppControlPolicy({ rulesets: [], baseline: [A] });
  assert.equal(p.decide({ path: '/usr/bin/x', sha256: A }).verdict, 'allow');
  assert.equal(p.decide({ path: '/usr/bin/x', sha256: A }).source, 'baseline');
  assert.deepEqual(p.decide({ path: '/usr/bin/x', sha256: B }), { verdict: 'unknown', source: 'none' });
  p.learn(B);
  assert.equal(p.decide({ path: '/usr/bin/x', sha256: B }).verdict, 'allow');
});

test('global block wins over every allow', () => {
  const p = new AppControlPolicy({
    rulesets: [rs('l', 'local', [{ kind: 'hash', sha256: A, action: 'allow' }])],
    globalBlock: [A],
    baseline: [A],
  });
  assert.deepEqual(p.decide({ path: '/x', sha256: A }), { verdict: 'block', source: 'global' });
});

test('hash beats path beats package beats baseline', () => {
  const p = new AppControlPolicy({
    rulesets: [
      rs('s', 'shared', [
        { kind: 'hash', sha256: A, action: 'allow' },
        { kind: 'path', pattern: '/tmp/', action: 'block' },
        { kind: 'package', manager: 'dpkg', name: 'core*', action: 'block' },
      ]),
    ],
    baseline: [C],
  });
  assert.equal(p.decide({ path: '/tmp/a', sha256: A }).source, 'hash');
  assert.equal(p.decide({ path: '/tmp/a', sha256: A }).verdict, 'allow');
  assert.deepEqual(
    { ...p.decide({ path: '/tmp/deep/b', sha256: B }) },
    { verdict: 'block', source: 'path', rulesetId: 's', scope: 'shared' },
  );
  const pkg = { manager: 'dpkg' as const, name: 'coreutils', intact: true };
  assert.equal(p.decide({ path: '/usr/bin/ls', sha256: C, package: pkg }).verdict, 'block');
  // A modified package file no longer counts as the package's: the rule does not apply.
  assert.equal(p.decide({ path: '/usr/bin/ls', sha256: C, package: { ...pkg, intact: false } }).source, 'baseline');
  // Another manager: no match.
  assert.equal(p.decide({ path: '/usr/bin/ls', sha256: C, package: { ...pkg, manager: 'rpm' } }).source, 'baseline');
});

test('package-origin allow lets unmodified distribution files run without a baseline', () => {
  const p = new AppControlPolicy({ rulesets: [rs('os', 'shared', [{ kind: 'package', action: 'allow' }])] });
  assert.equal(p.decide({ path: '/bin/ls', sha256: A, package: { manager: 'rpm', name: 'coreutils', intact: true } }).verdict, 'allow');
  assert.equal(p.decide({ path: '/bin/ls', sha256: A }).verdict, 'unknown');
});

test('local beats shared at the same layer; block beats allow within a scope', () => {
  const shared = rs('fleet', 'shared', [{ kind: 'hash', sha256: A, action: 'block' }]);
  const local = rs('me', 'local', [{ kind: 'hash', sha256: A, action: 'allow' }]);
  assert.equal(new AppControlPolicy({ rulesets: [shared, local] }).decide({ path: '/x', sha256: A }).verdict, 'allow');
  assert.equal(new AppControlPolicy({ rulesets: [local, shared] }).decide({ path: '/x', sha256: A }).rulesetId, 'me');
  const s2 = rs('other', 'shared', [{ kind: 'hash', sha256: A, action: 'allow' }]);
  assert.equal(new AppControlPolicy({ rulesets: [s2, shared] }).decide({ path: '/x', sha256: A }).verdict, 'block');
  assert.equal(new AppControlPolicy({ rulesets: [shared, s2] }).decide({ path: '/x', sha256: A }).verdict, 'block');
});

test('explicit path allow outranks the missing baseline; path glob semantics', () => {
  const p = new AppControlPolicy({
    rulesets: [rs('s', 'shared', [{ kind: 'path', pattern: '/opt/*/bin/tool', action: 'allow' }])],
  });
  assert.equal(p.decide({ path: '/opt/app/bin/tool', sha256: A }).verdict, 'allow');
  assert.equal(p.decide({ path: '/opt/a/b/bin/tool', sha256: A }).verdict, 'unknown');
  assert.equal(p.decide({ path: '/opt/app/bin/tool2', sha256: A }).verdict, 'unknown');
});

test('contentAllowed: what may be answered by hash alone', () => {
  const p = new AppControlPolicy({
    rulesets: [
      rs('s', 'shared', [
        { kind: 'hash', sha256: B, action: 'allow' },
        { kind: 'hash', sha256: C, action: 'block' },
      ]),
    ],
    baseline: [A, C],
    globalBlock: [B],
  });
  assert.deepEqual(p.contentAllowed(), [A]);
  p.learn(B);
  assert.deepEqual(p.contentAllowed(), [A]);
  const withPath = new AppControlPolicy({
    rulesets: [rs('s', 'shared', [{ kind: 'path', pattern: '/tmp/', action: 'block' }])],
    baseline: [A],
  });
  assert.equal(withPath.contentAllowed(), undefined);
});
