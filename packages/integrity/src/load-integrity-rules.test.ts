import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskIncludes } from './attribute-mask.ts';
import { loadIntegrityRules } from './load-integrity-rules.ts';

test('a valid rule file loads with defaults filled in', () => {
  const r = loadIntegrityRules(
    `version: 1
masks:
  Cfg: ReadOnly -mtime +sha512
rules:
  - id: etc
    paths: [/etc/]
    mask: Cfg
    severity: high
  - id: users
    type: users
`,
    'r.yaml',
  );
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  const etc = r.value.byId.get('etc')!;
  assert.deepEqual(etc.paths, ['/etc']);
  assert.equal(etc.depth, Number.POSITIVE_INFINITY);
  assert.deepEqual(etc.hash, ['sha256']);
  assert.equal(maskIncludes(etc.mask, 'mtime'), false);
  assert.equal(maskIncludes(etc.mask, 'sha512'), true);
  assert.equal(maskIncludes(etc.mask, 'mode'), true);
  const users = r.value.byId.get('users')!;
  assert.equal(users.type, 'users');
  assert.equal(users.severity, 'medium');
  assert.equal(maskIncludes(users.mask, 'shell'), true);
});

test('every problem is reported with its position and the file is refused', () => {
  const r = loadIntegrityRules(
    `rules:
  - id: a
    paths: [relative/path]
    colour: blue
  - id: a
    paths: [/x]
    mask: ReadOnly -mtimez
  - id: b
    type: sockets
  - id: c
    paths: [/y]
    severity: urgent
    depth: -1
`,
    'bad.yaml',
  );
  assert.equal(r.ok, false);
  const got = r.diagnostics.map((d) => `${d.line}:${d.column} ${d.code}`);
  assert.deepEqual(got, [
    '3:13 FIM_RULE_PATH_NOT_ABSOLUTE',
    '4:5 FIM_RULE_UNKNOWN_KEY',
    '5:9 FIM_RULE_DUPLICATE_ID',
    '7:21 FIM_MASK_INVALID',
    '9:11 FIM_RULE_INVALID_TYPE',
    '12:15 FIM_RULE_INVALID_VALUE',
    '13:12 FIM_RULE_INVALID_VALUE',
  ]);
  assert.ok(r.diagnostics.every((d) => d.file === 'bad.yaml' && d.severity === 'error'));
});

test('YAML syntax errors carry a position', () => {
  const r = loadIntegrityRules('rules:\n  - id: a\n    paths: [/x\n', 's.yaml');
  assert.equal(r.ok, false);
  assert.equal(r.diagnostics[0]!.code, 'FIM_RULES_SYNTAX');
  assert.ok(r.diagnostics[0]!.line! >= 3);
});

test('the shipped default rules load without diagnostics', async () => {
  const { readFileSync } = await import('node:fs');
  const file = new URL('../../../rules/integrity/linux-default.yaml', import.meta.url);
  const r = loadIntegrityRules(readFileSync(file, 'utf8'), 'linux-default.yaml');
  assert.deepEqual(r.diagnostics, []);
  assert.ok(r.ok);
  assert.ok(r.value.rules.length >= 10);
});
