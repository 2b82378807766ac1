import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseLogInspectionSettings } from './log-inspection-settings.ts';

const parse = (settings: Record<string, unknown>) => parseLogInspectionSettings({ enabled: true, mode: 'detect', settings });

test('an assigned application rule adds the log sources it names (shipped rules/log/apps)', () => {
  const r = parse({ files: [{ path: '/var/log/app.log' }], assignedRules: ['nginx', 'sshd'] });
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.settings!.files.map((f) => [f.path, f.format]),
    [
      ['/var/log/app.log', 'syslog'],
      ['/var/log/nginx/access.log', 'raw'],
      ['/var/log/nginx/error.log', 'raw'],
      ['/var/log/auth.log', 'syslog'],
      ['/var/log/secure', 'syslog'],
    ],
  );
  assert.deepEqual(r.settings!.journald, { units: ['ssh.service', 'sshd.service'] });
});

test("the policy's own sources win; a whole-journal policy is not narrowed to units", () => {
  const r = parse({ files: [{ path: '/var/log/auth.log', format: 'json' }], journald: {}, assignedRules: ['sshd'] });
  assert.deepEqual(
    r.settings!.files.map((f) => [f.path, f.format]),
    [
      ['/var/log/auth.log', 'json'],
      ['/var/log/secure', 'syslog'],
    ],
  );
  assert.deepEqual(r.settings!.journald, { units: [] }, 'still the whole journal');
  assert.deepEqual(parse({ journald: { units: ['cron.service'] }, assignedRules: ['sshd'] }).settings!.journald, {
    units: ['cron.service', 'ssh.service', 'sshd.service'],
  });
});

test('an assigned rule this agent does not ship is a warning, not a refused configuration', () => {
  const r = parse({ assignedRules: ['nginx', 'made-up-app', '../../etc'] });
  assert.ok(r.settings);
  assert.deepEqual(
    r.diagnostics.map((d) => [d.code, d.severity]),
    [
      ['LOGINSP_ASSIGNED_RULE_UNKNOWN', 'warning'],
      ['LOGINSP_ASSIGNED_RULE_UNKNOWN', 'warning'],
    ],
  );
});
