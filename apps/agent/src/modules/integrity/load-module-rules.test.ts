import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIntegritySettings } from './integrity-settings.ts';
import { loadModuleRules } from './load-module-rules.ts';

test('a rule id used by two sources refuses the lot', () => {
  const yaml = 'version: 1\nrules:\n  - id: web\n    paths: [/srv]\n';
  const parsed = parseIntegritySettings({
    enabled: true,
    mode: 'detect',
    settings: {
      rules: [
        { name: 'a', yaml },
        { name: 'b', yaml },
      ],
    },
  });
  assert.ok(parsed.settings, JSON.stringify(parsed.diagnostics));
  const r = loadModuleRules(parsed.settings);
  assert.equal(r.value, undefined);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.file]),
    [['FIM_RULE_DUPLICATE_ID', 'modules.integrity.rules.b']],
  );
});

test('an unreadable rule file refuses the lot', () => {
  const parsed = parseIntegritySettings({ enabled: true, mode: 'detect', settings: { ruleFiles: ['/nonexistent/rules.yaml'] } });
  assert.ok(parsed.settings);
  const r = loadModuleRules(parsed.settings);
  assert.equal(r.value, undefined);
  assert.equal(r.diagnostics[0]?.code, 'FIM_RULES_UNREADABLE');
});
