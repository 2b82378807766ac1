import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { contentDiff, diffPolicy, prepareContent } from './content-diff.ts';
import { loadIntegrityRules } from './load-integrity-rules.ts';
import { compileRedactionPattern, MAX_REDACTION_LINE, numberRedactions, redactSecrets } from './secret-redaction.ts';

const fp = (s: string) => createHash('sha256').update(`test-key\0${s}`).digest('hex').slice(0, 16);
const red = (t: string, patterns: RegExp[] = []) => redactSecrets(t, fp, { patterns });
const SECRETS = ['hunter2', 'S3cr3t!x', 'abc123token', 'AKIAIOSFODNN7EXAMPLE', 'pa55 with spaces', 'topsecretpw'];

function assertNoSecret(text: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${JSON.stringify(s)} leaked in:\n${text}`);
}

test('key = value lines whose key looks secret lose their value, in the usual config syntaxes', () => {
  const input = [
    'password = hunter2',
    'db_password: "S3cr3t!x"',
    'export API_TOKEN=abc123token',
    '  "apiKey": "abc123token",',
    'aws_access_key_id = AKIAIOSFODNN7EXAMPLE',
    'ClientSecret "pa55 with spaces"',
    'LdapBindPassword topsecretpw # the bind password',
    '# password=topsecretpw',
    '<password>hunter2</password>',
    'url = postgres://app:topsecretpw@db:5432/app',
    'cmd --password hunter2 --user bob',
    'mysqldump --password=S3cr3t!x db',
    'Authorization: Bearer abc123token',
    'query = ?a=1&token=abc123token&b=2',
  ].join('\n');
  const r = red(input);
  assertNoSecret(r.text);
  assert.equal(r.text.split('\n').length, 14, 'line structure kept');
  assert.match(r.text, /^LdapBindPassword \[redacted:[0-9a-f]{16}\] # the bind password$/m);
  assert.match(r.text, /^password = \[redacted:[0-9a-f]{16}\]$/m);
  assert.match(r.text, /^db_password: "\[redacted:[0-9a-f]{16}\]"$/m, 'quotes stay, only the value goes');
  assert.match(r.text, /^ {2}"apiKey": "\[redacted:[0-9a-f]{16}\]",$/m);
  assert.match(r.text, /--user bob$/m, 'the rest of a command line stays');
  assert.match(r.text, /postgres:\/\/app:\[redacted:[0-9a-f]{16}\]@db:5432\/app/);
  assert.match(r.text, /&b=2$/m);
  assert.ok(r.count >= 14, `count ${r.count}`);
});

test('sshd_config, sudoers, passwd and hosts stay readable: keys that merely mention passwords are not secrets', () => {
  const sshd = [
    'PasswordAuthentication no',
    'PermitEmptyPasswords no',
    'KbdInteractiveAuthentication no',
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    '# To disable tunneled clear text passwords, change to no here!',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'root:x:0:0:root:/root:/bin/bash',
    'shadowless:*:1001:1001::/home/s:/bin/sh',
    '%sudo ALL=(ALL:ALL) ALL',
    'Defaults env_reset,timestamp_timeout=5',
    '127.0.0.1 localhost',
    '#   GSSAPIDelegateCredentials no',
    'password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt',
    'password\trequired\t\t\tpam_permit.so',
    'password include su',
    'UsePasswords = yes',
    'server_prompts = "Username:: : Password::"',
    'secret = # disabled',
    '<a accesskey="p" href="faq.html">',
    'token = nil',
  ].join('\n');
  const r = red(sshd);
  assert.equal(r.text, sshd);
  assert.equal(r.count, 0);
});

test('PEM blocks keep their markers and line count; the body carries one fingerprint', () => {
  const key = [
    '-----BEGIN OPENSSH PRIVATE KEY-----',
    'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ',
    'AAAAMwAAAAtzc2gtZWQyNTUxOQAAACD',
    '-----END OPENSSH PRIVATE KEY-----',
    'after',
  ].join('\n');
  const r = red(key);
  const lines = r.text.split('\n');
  assert.equal(lines.length, 5);
  assert.equal(lines[0], '-----BEGIN OPENSSH PRIVATE KEY-----');
  assert.match(lines[1]!, /^\[redacted:[0-9a-f]{16}\]$/);
  assert.equal(lines[2], '[redacted]');
  assert.equal(lines[3], '-----END OPENSSH PRIVATE KEY-----');
  assert.equal(lines[4], 'after');
  assert.ok(!r.text.includes('b3Blbn'));
  // Unterminated: redacted to the end rather than half shown.
  const cut = red('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nIBAAKCAQ\n');
  assert.ok(!cut.text.includes('MIIEow') && !cut.text.includes('IBAAKCAQ'));
  // On one line (a JSON string with escapes).
  const one = red('{"key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQIB\\n-----END PRIVATE KEY-----"}');
  assert.ok(!one.text.includes('MIIEvQIB'));
  assert.match(one.text, /-----END PRIVATE KEY-----"\}$/);
});

test('crypt hashes and well-known token shapes are redacted anywhere on a line', () => {
  const r = red(
    'legacy:$6$rounds=5000$saltsalt$Cw2bOc2p4F1mRZl0b1lwzJeX.Hh0Q:0:0::/:/bin/sh\nnote ghp_0123456789abcdefghijABCDEFGHIJ012345 here',
  );
  assert.ok(!r.text.includes('Cw2bOc2p4F'));
  assert.ok(!r.text.includes('ghp_0123'));
  assert.match(r.text, /^legacy:\[redacted:[0-9a-f]{16}\]:0:0::\/:\/bin\/sh$/m);
});

test('custom patterns redact their capture groups, or the whole match without groups', () => {
  const g = compileRedactionPattern('^\\s*SharedKey\\s+(\\S+)');
  const w = compileRedactionPattern('INTERNAL-[0-9]{6}');
  assert.ok(g instanceof RegExp && w instanceof RegExp);
  const r = red('SharedKey hunter2\nticket INTERNAL-123456 done\nsharedkey topsecretpw', [g, w]);
  assertNoSecret(r.text);
  assert.ok(!r.text.includes('INTERNAL-123456'));
  assert.match(r.text, /^SharedKey \[redacted:/m);
  assert.match(r.text, /^ticket \[redacted:[0-9a-f]+\] done$/m);
  // Defaults off: only the custom patterns apply.
  const off = redactSecrets('password = hunter2\nSharedKey x1', fp, { defaults: false, patterns: [g] });
  assert.match(off.text, /^password = hunter2$/m);
  assert.ok(!off.text.includes('x1'));
  assert.match((compileRedactionPattern('(') as { error: string }).error, /Invalid regular expression/);
  assert.ok('error' in (compileRedactionPattern('a*') as object), 'a pattern matching the empty string is refused');
});

test('hostile lines: a line over the limit is redacted whole; at the limit it is redacted field by field', () => {
  const long = `password=${'A'.repeat(MAX_REDACTION_LINE * 4)}`;
  const r = red(`ok\n${long}\nok2`);
  assert.equal(r.text.split('\n')[1]!.startsWith('[redacted:'), true);
  assert.ok(r.text.length < 200);
  // At the limit a line is still read field by field (the regexes see at most 4096 characters,
  // which bounds their cost whatever the input).
  const atLimit = `password=${'B'.repeat(MAX_REDACTION_LINE - 'password='.length)}`;
  assert.equal(atLimit.length, MAX_REDACTION_LINE);
  assert.match(red(atLimit).text, /^password=\[redacted:[0-9a-f]{16}\]$/);
  const words = `${'x'.repeat(MAX_REDACTION_LINE - 20)} = y`;
  assert.equal(red(words).text, words, 'a long run of word characters without a secret key stays');
});

test('numbered redactions: the same secret gets the same number on both sides, a changed one a new number', () => {
  const before = red('password = hunter2\ntoken = abc123token\n').text;
  const after = red('password = S3cr3t!x\ntoken = abc123token\n').text;
  const [a, b] = numberRedactions(before, after);
  assert.equal(a, 'password = [redacted#1]\ntoken = [redacted#2]\n');
  assert.equal(b, 'password = [redacted#3]\ntoken = [redacted#2]\n');
});

test('contentDiff of prepared contents: redacted diff, binary and size skips, unchanged content', () => {
  const loaded = loadIntegrityRules('version: 1\nrules:\n  - id: r\n    paths: [/etc]\n    reportChanges: true\n    diffMaxBytes: 200\n');
  assert.ok(loaded.ok);
  const policy = diffPolicy(loaded.value.byId.get('r')!);
  const enc = (s: string) => new TextEncoder().encode(s);
  const before = prepareContent(enc('Port 22\npassword = hunter2\nPermitRootLogin no\n'), policy, fp);
  const after = prepareContent(enc('Port 22\npassword = S3cr3t!x\nPermitRootLogin yes\n'), policy, fp);
  assert.ok('text' in before && 'text' in after);
  assertNoSecret(before.text + after.text);
  const d = contentDiff(before.text, after.text, '/etc/app.conf', true);
  assert.equal(d.status, 'diff');
  if (d.status !== 'diff') return;
  assertNoSecret(d.diff);
  assert.ok(!/[0-9a-f]{16}/.test(d.diff), 'no fingerprint reaches the event');
  assert.ok(
    d.diff.includes(' Port 22\n-password = [redacted#1]\n-PermitRootLogin no\n+password = [redacted#2]\n+PermitRootLogin yes\n'),
    d.diff,
  );
  assert.equal(d.redacted, 2);
  assert.deepEqual(prepareContent(enc('x'.repeat(201)), policy, fp), { skipped: 'too-large' });
  assert.deepEqual(prepareContent(Uint8Array.from([0x7f, 0x45, 0x4c, 0x46, 0]), policy, fp), { skipped: 'binary' });
  assert.deepEqual(contentDiff(before.text, before.text, '/etc/app.conf', true), { status: 'skipped', reason: 'unchanged' });
  const created = contentDiff(undefined, after.text, '/etc/app.conf', true);
  assert.ok(created.status === 'diff' && created.diff.startsWith('--- /dev/null\n+++ /etc/app.conf\n@@ -0,0 +1,3 @@'));
});

test('rule options: reportChanges globs, diffMaxBytes, redact and redactPatterns are validated with positions', () => {
  const ok = loadIntegrityRules(
    'version: 1\nrules:\n  - id: ssh\n    paths: [/etc/ssh, /etc/passwd]\n    reportChanges: [sshd_config, "sshd_config.d/**", /etc/passwd]\n    redactPatterns: ["^Secret (\\\\S+)"]\n',
  );
  assert.ok(ok.ok, JSON.stringify(ok.diagnostics));
  const rs = ok.value;
  const rule = rs.byId.get('ssh')!;
  assert.equal(rs.reportsChanges(rule, '/etc/ssh/sshd_config'), true);
  assert.equal(rs.reportsChanges(rule, '/etc/ssh/sshd_config.d/10-x.conf'), true);
  assert.equal(rs.reportsChanges(rule, '/etc/ssh/ssh_host_rsa_key'), false);
  assert.equal(rs.reportsChanges(rule, '/etc/passwd'), true);
  assert.equal(rule.diffMaxBytes, 65536);
  assert.equal(rule.redact, true);
  const bad = loadIntegrityRules(
    'version: 1\nrules:\n  - id: a\n    paths: [/etc]\n    reportChanges: 3\n    diffMaxBytes: 0\n    redactPatterns: ["(unclosed"]\n  - id: u\n    type: users\n    reportChanges: true\n',
    'r.yaml',
  );
  assert.equal(bad.ok, false);
  const at = bad.diagnostics.map((d) => `${d.code}@${d.line}:${d.column}`);
  assert.deepEqual(at, [
    'FIM_RULE_INVALID_VALUE@5:20',
    'FIM_RULE_INVALID_VALUE@6:19',
    'FIM_REDACT_PATTERN_INVALID@7:22',
    'FIM_RULE_INVALID_VALUE@10:20',
  ]);
});
