import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { loadIntegrityRules, maskIncludes } from '@palisade/integrity';

const text = readFileSync(new URL('./linux-default.yaml', import.meta.url), 'utf8');
const loaded = loadIntegrityRules(text, 'linux-default.yaml');
assert.ok(loaded.ok, JSON.stringify(loaded.diagnostics));
const rules = loaded.value;

const FILE = 0o100644;
const SUID = 0o104755;
const DIR = 0o040755;

test('the default rules put the files an intruder touches under the rule meant for them', () => {
  const claims: [string, number, string | undefined][] = [
    ['/etc/ssh/sshd_config', FILE, 'etc-ssh'],
    ['/etc/sudoers.d/90-cloud', FILE, 'etc-auth'],
    ['/etc/pam.d/common-auth', FILE, 'etc-auth'],
    ['/etc/passwd', FILE, 'etc-auth'],
    ['/etc/hostname', FILE, 'etc'],
    ['/etc/cron.d/backdoor', FILE, 'etc-cron'],
    ['/usr/bin/ls', 0o100755, 'system-binaries'],
    ['/usr/bin/passwd', SUID, 'setid-files'],
    ['/home/bob/.cache/sh', SUID, 'setid-files'],
    ['/tmp/x', FILE, undefined],
    ['/proc/1/exe', SUID, undefined],
    ['/usr/lib/python3/dist-packages/x/__pycache__/y.pyc', FILE, undefined],
    ['/usr/lib/x86_64-linux-gnu/libc.so.6', FILE, 'system-libraries'],
    ['/etc/systemd/system/evil.service', FILE, 'systemd-units'],
    ['/root/.ssh/authorized_keys', FILE, 'root-home'],
    ['/var/log/auth.log', FILE, 'logs'],
    ['/var/log/apt/history.log', FILE, undefined],
    ['/boot/vmlinuz', FILE, 'boot'],
  ];
  for (const [path, mode, id] of claims) assert.equal(rules.ruleForPath(path, mode, mode === DIR)?.id, id, path);
});

test('severities and masks of the default rules', () => {
  const get = (id: string) => rules.byId.get(id)!;
  assert.equal(get('setid-files').severity, 'critical');
  assert.equal(get('users').severity, 'critical');
  assert.ok(maskIncludes(get('etc-ssh').mask, 'sha512'));
  assert.ok(get('logs').mask.growingSize);
  for (const t of ['users', 'groups', 'packages', 'ports', 'services', 'kernel-modules', 'crontabs']) {
    assert.ok(rules.rulesOfType(t as never).length === 1, t);
  }
});

test('text diffs (reportChanges) cover the small text files an intruder edits, and no private key or shadow file', () => {
  const wants = (path: string) => {
    const rule = rules.ruleForPath(path, FILE, false);
    return rule !== undefined && rules.reportsChanges(rule, path);
  };
  for (const p of [
    '/etc/ssh/sshd_config',
    '/etc/ssh/sshd_config.d/50-cloud-init.conf',
    '/etc/sudoers',
    '/etc/sudoers.d/90-cloud',
    '/etc/passwd',
    '/etc/group',
    '/etc/hosts',
    '/etc/ld.so.preload',
    '/etc/crontab',
    '/etc/cron.d/backdoor',
    '/var/spool/cron/crontabs/root',
    '/etc/pam.d/common-auth',
    '/etc/systemd/system/evil.service',
    '/root/.ssh/authorized_keys',
    '/root/.bashrc',
  ])
    assert.ok(wants(p), `${p} should get text diffs`);
  for (const p of ['/etc/shadow', '/etc/gshadow', '/etc/ssh/ssh_host_ed25519_key', '/etc/ssh/moduli', '/usr/bin/ls', '/etc/hostname', '/root/.ssh/id_ed25519'])
    assert.ok(!wants(p), `${p} should not get text diffs`);
  for (const r of rules.rules) if (r.reportChanges) assert.equal(r.redact, true, `${r.id} redacts`);
});
