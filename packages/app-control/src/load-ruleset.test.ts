import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadRuleset } from './load-ruleset.ts';

const A = 'A'.repeat(64);

test('a valid ruleset loads with hashes normalised to lower case', () => {
  const r = loadRuleset({
    id: 'web-tier',
    name: 'Web tier',
    rules: [
      { kind: 'hash', sha256: A, action: 'allow', description: 'our tool' },
      { kind: 'path', pattern: '/tmp/', action: 'block' },
      { kind: 'package', manager: 'dpkg', action: 'allow' },
    ],
  });
  assert.ok(r.ok);
  assert.equal(r.value.scope, 'shared');
  assert.equal(r.value.rules.length, 3);
  assert.deepEqual(r.value.rules[0], { kind: 'hash', sha256: 'a'.repeat(64), action: 'allow', description: 'our tool' });
});

test('all-or-nothing: one bad rule refuses the ruleset and every problem is listed', () => {
  const r = loadRuleset(
    {
      id: 'x',
      rules: [
        { kind: 'hash', sha256: 'abc', action: 'allow' },
        { kind: 'path', pattern: 'relative/*', action: 'block' },
        { kind: 'hash', sha256: A, action: 'deny' },
        { kind: 'regex', action: 'allow' },
        { kind: 'package', manager: 'apk', action: 'allow' },
      ],
    },
    'modules.app-control.rulesets[0]',
  );
  assert.equal(r.ok, false);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.file]),
    [
      ['APPCTL_BAD_HASH', 'modules.app-control.rulesets[0].rules[0]'],
      ['APPCTL_BAD_PATH', 'modules.app-control.rulesets[0].rules[1]'],
      ['APPCTL_RULE_INVALID', 'modules.app-control.rulesets[0].rules[2]'],
      ['APPCTL_RULE_INVALID', 'modules.app-control.rulesets[0].rules[3]'],
      ['APPCTL_RULE_INVALID', 'modules.app-control.rulesets[0].rules[4]'],
    ],
  );
});

test('the same hash allowed and blocked in one ruleset is a conflict', () => {
  const r = loadRuleset({
    id: 'x',
    rules: [
      { kind: 'hash', sha256: A, action: 'allow' },
      { kind: 'hash', sha256: A.toLowerCase(), action: 'block' },
    ],
  });
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]?.code, 'APPCTL_RULE_CONFLICT');
});

test('ruleset shape errors', () => {
  assert.equal(loadRuleset(null).diagnostics[0]?.code, 'APPCTL_RULESET_INVALID');
  const r = loadRuleset({ id: 'bad id!', scope: 'global', rules: {} });
  assert.deepEqual(
    r.diagnostics.map((d) => d.code),
    ['APPCTL_RULESET_INVALID', 'APPCTL_RULESET_INVALID', 'APPCTL_RULESET_INVALID'],
  );
});
