import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModuleConfig } from '@palisade/protocol';
import { parseAppControlSettings } from './app-control-settings.ts';

const cfg = (mode: ModuleConfig['mode'], settings: Record<string, unknown> = {}): ModuleConfig => ({ enabled: true, mode, settings });
const H = 'ab'.repeat(32);

test('module mode maps to the app-control mode; settings.mode refines prevent', () => {
  assert.equal(parseAppControlSettings(cfg('detect')).settings?.mode, 'detect');
  assert.equal(parseAppControlSettings(cfg('prevent')).settings?.mode, 'block-unrecognized');
  assert.equal(parseAppControlSettings(cfg('prevent', { mode: 'block-explicit' })).settings?.mode, 'block-explicit');
  assert.equal(parseAppControlSettings(cfg('off')).settings?.mode, 'off');
  // A blocking mode asked for while the policy says detect: detect wins, with a warning.
  const d = parseAppControlSettings(cfg('detect', { mode: 'block-unrecognized' }));
  assert.equal(d.settings?.mode, 'detect');
  assert.equal(d.diagnostics[0]?.severity, 'warning');
});

test('defaults, and the default exclusions stay when the policy adds its own', () => {
  const s = parseAppControlSettings(cfg('prevent', { exclude: ['/opt/big/'] })).settings;
  assert.ok(s?.roots.includes('/usr'));
  assert.ok(s?.exclude.includes('/proc/') && s.exclude.includes('/opt/big/'));
  assert.equal(s?.decisionTimeoutMs, 1000);
  assert.equal(s?.marks, undefined);
});

test('bad settings and rulesets are refused with located diagnostics', () => {
  const bad = parseAppControlSettings(cfg('prevent', { roots: ['relative'], color: 'red' }));
  assert.equal(bad.settings, undefined);
  assert.ok(bad.diagnostics.every((d) => d.code === 'APPCTL_SETTINGS_INVALID'));
  const rs = parseAppControlSettings(
    cfg('prevent', {
      rulesets: [
        { id: 'a', rules: [{ kind: 'hash', sha256: H, action: 'allow' }] },
        { id: 'b', rules: [{ kind: 'hash', sha256: 'nope', action: 'block' }] },
      ],
      globalBlock: [H, 'xyz'],
    }),
  );
  assert.equal(rs.settings, undefined);
  assert.deepEqual(
    rs.diagnostics.map((d) => [d.code, d.file]),
    [
      ['APPCTL_BAD_HASH', 'modules.app-control.rulesets[1].rules[0]'],
      ['APPCTL_BAD_HASH', 'modules.app-control'],
    ],
  );
  const dup = parseAppControlSettings(
    cfg('prevent', {
      rulesets: [
        { id: 'a', rules: [] },
        { id: 'a', rules: [] },
      ],
    }),
  );
  assert.equal(dup.diagnostics[0]?.code, 'APPCTL_RULESET_INVALID');
  assert.equal(parseAppControlSettings(cfg('prevent', { maintenanceUntil: 'tomorrow' })).diagnostics[0]?.code, 'APPCTL_SETTINGS_INVALID');
});

test('a ruleset the manager could not resolve refuses the whole configuration', () => {
  const r = parseAppControlSettings({ enabled: true, mode: 'prevent', settings: { unresolvedRulesets: ['web-tier'] } });
  assert.equal(r.settings, undefined);
  assert.equal(r.diagnostics[0]?.code, 'APPCTL_RULESET_UNKNOWN');
  assert.match(r.diagnostics[0]?.message ?? '', /web-tier/);
  assert.equal(parseAppControlSettings({ enabled: true, mode: 'prevent', settings: {} }).settings?.packageOrigin, true);
});
