import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIntegritySettings } from './integrity-settings.ts';
import { loadModuleRules } from './load-module-rules.ts';

const parse = (settings: Record<string, unknown>) => parseIntegritySettings({ enabled: true, mode: 'detect', settings });

test('assigned application rules load after the default rules, as one rule set', () => {
  const r = parse({ assignedRules: ['nginx', 'postgresql'] });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.settings!.ruleFiles.map((f) => f.split('/rules/integrity/')[1]),
    ['linux-default.yaml', 'apps/nginx/rules.yaml', 'apps/postgresql/rules.yaml'],
  );
  const loaded = loadModuleRules(r.settings!);
  assert.deepEqual(loaded.diagnostics, []);
  const ids = loaded.value!.rules.rules.map((x) => x.id);
  for (const id of ['etc', 'app-nginx-config', 'app-nginx-webroot', 'app-postgresql-config']) assert.ok(ids.includes(id), id);
});

test("every shipped application rule loads together with the default rules (ids don't collide)", async () => {
  const { readdirSync } = await import('node:fs');
  const { BUNDLED_APP_RULES_DIR } = await import('./integrity-settings.ts');
  const all = readdirSync(BUNDLED_APP_RULES_DIR).sort();
  assert.ok(all.length >= 5);
  const loaded = loadModuleRules(parse({ assignedRules: all }).settings!);
  assert.deepEqual(loaded.diagnostics, []);
});

test('an assigned rule this agent does not ship is a warning; the rest still applies', () => {
  const r = parse({ assignedRules: ['nginx', 'no-such-app', '../x'] });
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity]),
    [
      ['FIM_ASSIGNED_RULE_UNKNOWN', 'warning'],
      ['FIM_ASSIGNED_RULE_UNKNOWN', 'warning'],
    ],
  );
  assert.equal(r.settings!.ruleFiles.length, 2);
});
