import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDiagnostic } from '@palisade/diagnostics';
import { loadRuleSet } from './rule-set.ts';

test('malformed rules give file:line:column diagnostics and load nothing', () => {
  const text = [
    'SecRule ARGS "@rx ^a" "id:1,phase:2,deny"',
    'SecRule ARGS "@bogus x" \\',
    '    "id:2,phase:2,deny"',
    'SecRule ARGS "@rx (" "id:3,phase:2"',
    'SecRule NOPE "@rx a" "id:4"',
    'SecRule ARGS "@rx a" "id:5,t:nosuch"',
    'SecRule ARGS "@rx a" "phase:2"',
    'SecFoo On',
    'SecRule ARGS "@rx a" "id:1"',
  ].join('\n');
  const r = loadRuleSet([{ name: 'bad.conf', text }]);
  assert.equal(r.ok, false);
  const lines = r.diagnostics.map(formatDiagnostic);
  const expect: [string, RegExp][] = [
    ['SECLANG_UNKNOWN_OPERATOR', /^bad\.conf:2:14: /],
    ['SECLANG_BAD_REGEX', /^bad\.conf:4:14: /],
    ['SECLANG_UNKNOWN_VARIABLE', /^bad\.conf:5:9: /],
    ['SECLANG_UNKNOWN_TRANSFORMATION', /^bad\.conf:6:28: /],
    ['SECLANG_MISSING_ID', /^bad\.conf:7:1: /],
    ['SECLANG_UNKNOWN_DIRECTIVE', /^bad\.conf:8:1: /],
    ['SECLANG_DUPLICATE_ID', /^bad\.conf:9:1: /],
  ];
  for (const [code, where] of expect) {
    const line = lines.find((l) => l.includes(code));
    assert.ok(line, `missing ${code} in\n${lines.join('\n')}`);
    assert.match(line, where);
  }
});

test('a continuation line error points into the continued line', () => {
  const r = loadRuleSet([{ name: 'c.conf', text: 'SecRule ARGS "@rx a" \\\n    "id:7,\\\n    phase:9"' }]);
  assert.equal(r.ok, false);
  const d = r.diagnostics.find((x) => x.code === 'SECLANG_BAD_PHASE');
  assert.deepEqual([d?.line, d?.column], [3, 5]);
});

test('unterminated quotes and incomplete chains are errors', () => {
  assert.equal(loadRuleSet([{ name: 'q.conf', text: 'SecRule ARGS "@rx a "id:1"' }]).ok, false);
  const r = loadRuleSet([{ name: 'ch.conf', text: 'SecRule ARGS "@rx a" "id:1,chain"\nSecMarker END' }]);
  assert.equal(r.ok, false);
  assert.ok(r.diagnostics.some((d) => d.code === 'SECLANG_CHAIN_INCOMPLETE'));
});

test('Include resolves relative paths and globs through the caller', () => {
  const files: Record<string, string> = {
    '/etc/p/main.conf': 'Include rules/*.conf\nSecRuleRemoveById 2',
    '/etc/p/rules/a.conf': 'SecRule ARGS "@rx a" "id:1,phase:2,deny"',
    '/etc/p/rules/b.conf': 'SecRule ARGS "@pmFromFile words.data" "id:2,phase:2,deny"\nSecRule ARGS "@pmFromFile words.data" "id:3,phase:2,deny"',
    '/etc/p/rules/words.data': '# comment\nfoo\nbar\n',
  };
  const r = loadRuleSet([{ name: '/etc/p/main.conf', text: files['/etc/p/main.conf']! }], {
    readFile: (p) => files[p],
    glob: (p) => Object.keys(files).filter((f) => f.startsWith(p.replace('*.conf', '')) && f.endsWith('.conf')).sort(),
  });
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(formatDiagnostic).join('\n'));
  assert.deepEqual(r.value.rules.map((x) => x.id), [1, 3]);
});

test('Include without a reader, or of a missing file, is refused', () => {
  const r = loadRuleSet([{ name: 'm.conf', text: 'Include other.conf' }]);
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]?.code, 'SECLANG_INCLUDE_UNAVAILABLE');
  const r2 = loadRuleSet([{ name: 'm.conf', text: 'Include other.conf' }], { readFile: () => undefined });
  assert.equal(r2.diagnostics[0]?.code, 'SECLANG_INCLUDE_NOT_FOUND');
});

test('SecRuleUpdateTargetById adds targets and exclusions', () => {
  const r = loadRuleSet([{ name: 'u.conf', text: 'SecRule ARGS "@rx a" "id:10,phase:2,deny"\nSecRuleUpdateTargetById 10 "!ARGS:foo|REQUEST_HEADERS:x"' }]);
  assert.ok(r.ok);
  const rule = r.value.rules[0]!;
  assert.deepEqual(rule.exclusions.map((e) => [e.name, e.key]), [['ARGS', 'foo']]);
  assert.deepEqual(rule.variables.map((v) => [v.name, v.key]), [['ARGS', undefined], ['REQUEST_HEADERS', 'x']]);
});
