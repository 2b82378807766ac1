import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { type Change, diffEntities, type Entity, loadIntegrityRules } from '@palisade/integrity';
import { BaselineStore } from './baseline-store.ts';
import { runFimScan } from './fim-scan.ts';
import { HashPool } from './hash-pool.ts';

const RULES = `version: 1
rules:
  - id: bin
    paths: [/usr/bin]
    mask: ReadOnly
    severity: high
  - id: etc
    paths: [/etc]
    mask: ReadOnly +sha512
    hash: [sha256, sha512]
  - id: data
    paths: [/data]
    mask: ReadOnly
  - id: paranoid
    paths: [/secure]
    fullHash: true
  - id: logs
    paths: [/var/log]
    mask: Growing
    severity: low
  - id: setid
    paths: [/]
    exclude: [/proc]
    filter: setid
    severity: critical
  - id: users
    type: users
    severity: critical
  - id: ports
    type: ports
    paths: [/proc/net/tcp]
`;
const rules = (() => {
  const r = loadIntegrityRules(RULES, 'test.yaml');
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
})();

const TCP_HEAD = '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n';
const tcpLine = (n: number, port: number) =>
  `   ${n}: 00000000:${port.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 ${1000 + n} 1 0000000000000000 100 0 0 10 0\n`;

const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function makeTree(): string {
  const root = mkdtempSync(join(tmpdir(), 'palisade-fim-'));
  temps.push(root);
  for (const d of ['usr/bin', 'etc', 'data/sub', 'secure', 'var/log', 'proc/net', 'home/u']) mkdirSync(join(root, d), { recursive: true });
  writeFileSync(join(root, 'usr/bin/tool'), '#!/bin/sh\necho tool\n', { mode: 0o755 });
  writeFileSync(join(root, 'usr/bin/other'), '#!/bin/sh\necho other\n', { mode: 0o755 });
  symlinkSync('tool', join(root, 'usr/bin/link'));
  writeFileSync(join(root, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n');
  writeFileSync(join(root, 'etc/shadow'), 'root:$6$salt$SECRETHASH:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n', { mode: 0o640 });
  writeFileSync(join(root, 'etc/group'), 'root:x:0:\ndaemon:x:1:\n');
  writeFileSync(join(root, 'etc/app.conf'), 'listen = 127.0.0.1\n');
  writeFileSync(join(root, 'data/report.txt'), 'quarterly numbers\n');
  writeFileSync(join(root, 'data/sub/keep.txt'), 'keep\n');
  writeFileSync(join(root, 'secure/key.pem'), 'KEY-A\n');
  writeFileSync(join(root, 'var/log/app.log'), 'line 1\n');
  writeFileSync(join(root, 'home/u/notes'), 'not monitored unless set-id\n');
  writeFileSync(join(root, 'proc/net/tcp'), TCP_HEAD + tcpLine(0, 22));
  return root;
}

async function scan(root: string, previous?: Entity[]) {
  return runFimScan(rules, { root, previous, hashWorkers: 2 });
}

function describe(changes: Change[]): string[] {
  return changes.map(
    (c) =>
      `${c.change} ${c.kind} ${c.from ? `${c.from}->` : ''}${c.key} [${c.attributes.map((a) => a.name).join(',')}]${c.flags.length ? ` ${c.flags}` : ''}`,
  );
}

test('a fresh tree scans completely, with hashes, owner names and no issues', async () => {
  const root = makeTree();
  const r = await scan(root);
  assert.deepEqual(r.issues, []);
  const byKey = new Map(r.entities.map((e) => [`${e.kind}:${e.key}`, e]));
  const tool = byKey.get('file:/usr/bin/tool')!;
  assert.match(String(tool.attrs.sha256), /^[0-9a-f]{64}$/);
  assert.equal(tool.attrs.mode, 0o755);
  assert.equal(byKey.get('file:/usr/bin/link')!.attrs.target, 'tool');
  assert.match(String(byKey.get('file:/etc/app.conf')!.attrs.sha512), /^[0-9a-f]{128}$/);
  assert.equal(byKey.get('file:/usr/bin/tool')!.attrs.sha512, undefined);
  assert.equal(byKey.get('file:/home/u/notes'), undefined);
  assert.ok(byKey.has('user:daemon'));
  assert.ok(byKey.has('port:tcp/0.0.0.0:22'));
  if (process.getuid?.() === 0) assert.equal(tool.attrs.user, 'root');
  assert.equal(byKey.get('user:root')!.attrs.password, 'set');
  assert.ok(!JSON.stringify(r.entities.filter((e) => e.kind === 'user')).includes('SECRETHASH'));
});

test('every change kind on the generated tree is found, each with its attribute', async () => {
  const root = makeTree();
  const base = await scan(root);
  const p = (x: string) => join(root, x);
  writeFileSync(p('usr/bin/tool'), '#!/bin/sh\necho trojan\n'); // content
  chmodSync(p('etc/app.conf'), 0o666); // mode
  renameSync(p('data/report.txt'), p('data/sub/moved.txt')); // rename
  // Symlink retarget the way `ln -sf` does it: a new link renamed over the old one.
  symlinkSync('other', p('usr/bin/link.new'));
  renameSync(p('usr/bin/link.new'), p('usr/bin/link'));
  writeFileSync(p('home/u/.hidden-shell'), 'ELF', { mode: 0o755 });
  chmodSync(p('home/u/.hidden-shell'), 0o4755); // new SUID file outside any other rule
  appendFileSync(p('var/log/app.log'), 'line 2\n'); // growing log: fine
  appendFileSync(p('etc/passwd'), 'backdoor:x:0:0::/tmp:/bin/sh\n'); // new user
  appendFileSync(p('proc/net/tcp'), tcpLine(1, 4444)); // new listening port
  unlinkSync(p('data/sub/keep.txt'));
  const now = await scan(root, base.entities);
  assert.deepEqual(now.issues, []);
  const got = describe(diffEntities(base.entities, now.entities, rules));
  assert.deepEqual(got, [
    // Directories whose entries changed get a new mtime; ReadOnly reports it, like AIDE does.
    'updated file /data [mtime]',
    'updated file /data/sub [mtime]',
    'deleted file /data/sub/keep.txt []',
    'renamed file /data/report.txt->/data/sub/moved.txt []',
    'updated file /etc/app.conf [mode]',
    // passwd is itself a monitored file: its content changed too.
    'updated file /etc/passwd [mtime,sha256,sha512,size]',
    'created file /home/u/.hidden-shell [] setid-added',
    'updated file /usr/bin [mtime]',
    // A new link: new inode and mtime, and its size is the target's length.
    'updated file /usr/bin/link [inode,mtime,size,target]',
    'updated file /usr/bin/tool [mtime,sha256,size]',
    'created port tcp/0.0.0.0:4444 []',
    'created user backdoor []',
  ]);
});

test('an owner change is reported with uid and user name', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('chown needs root');
  const root = makeTree();
  const base = await scan(root);
  chownSync(join(root, 'usr/bin/other'), 1, 1);
  const now = await scan(root, base.entities);
  assert.deepEqual(describe(diffEntities(base.entities, now.entities, rules)), ['updated file /usr/bin/other [gid,group,uid,user]']);
});

test('a shrinking log is reported; a growing one is not', async () => {
  const root = makeTree();
  const base = await scan(root);
  appendFileSync(join(root, 'var/log/app.log'), 'more\n');
  const grown = await scan(root, base.entities);
  assert.deepEqual(diffEntities(base.entities, grown.entities, rules), []);
  writeFileSync(join(root, 'var/log/app.log'), '');
  const shrunk = await scan(root, grown.entities);
  const c = diffEntities(grown.entities, shrunk.entities, rules);
  assert.deepEqual(describe(c), ['updated file /var/log/app.log [size]']);
  assert.equal(c[0]!.severity, 'low');
});

test('a re-scan without changes reuses hashes, except where the rule asks for full hashing', async () => {
  const root = makeTree();
  const base = await scan(root);
  const again = await scan(root, base.entities);
  assert.equal(again.stats.hashed, 1, 'only /secure (fullHash) is re-read');
  assert.equal(again.stats.reused, base.stats.hashed - 1);
  assert.deepEqual(diffEntities(base.entities, again.entities, rules), []);
});

test('content changed with a forged mtime is still found (ctime changed, so it is re-hashed)', async () => {
  const root = makeTree();
  const f = join(root, 'usr/bin/other');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  const base = await scan(root);
  writeFileSync(f, '#!/bin/sh\necho OTHER\n');
  utimesSync(f, 1_700_000_000, 1_700_000_000);
  const now = await scan(root, base.entities);
  assert.deepEqual(describe(diffEntities(base.entities, now.entities, rules)), ['updated file /usr/bin/other [sha256]']);
});

test('files and directories vanishing mid-scan are reported and do not abort the scan', async () => {
  const root = makeTree();
  const r = await runFimScan(rules, {
    root,
    hashWorkers: 1,
    onWalk: (_n, path) => {
      if (path === '/data') rmSync(join(root, 'data'), { recursive: true });
      if (path === '/etc/app.conf') unlinkSync(join(root, 'etc/app.conf'));
    },
  });
  const issues = r.issues.map((i) => `${i.kind} ${i.path}`).sort();
  assert.deepEqual(issues, ['vanished /data', 'vanished /etc/app.conf']);
  assert.ok(
    r.entities.some((e) => e.key === '/usr/bin/tool'),
    'the rest of the tree is still scanned',
  );
  assert.ok(!r.entities.some((e) => e.key === '/etc/app.conf'));
});

test('unreadable files are reported and kept without a hash', async (t) => {
  if (process.getuid?.() === 0) return t.skip('root reads everything');
  const root = makeTree();
  chmodSync(join(root, 'etc/app.conf'), 0);
  const r = await scan(root);
  assert.deepEqual(
    r.issues.map((i) => `${i.kind} ${i.path}`),
    ['unreadable /etc/app.conf'],
  );
  assert.equal(r.entities.find((e) => e.key === '/etc/app.conf')!.attrs.sha256, undefined);
});

test('a missing source is an issue, not a failure', async () => {
  const root = makeTree();
  rmSync(join(root, 'etc/passwd'));
  const r = await scan(root);
  assert.deepEqual(
    r.issues.map((i) => `${i.kind} ${i.path}`),
    ['missing-source /etc/passwd'],
  );
  assert.ok(r.entities.some((e) => e.kind === 'port'));
});

test('the hash pool reports per-file errors in job order', async () => {
  const root = makeTree();
  const pool = new HashPool(2);
  try {
    const res = await pool.hashAll([
      { path: join(root, 'secure/key.pem'), algos: ['sha256'], size: 6 },
      { path: join(root, 'nope'), algos: ['sha256'], size: 0 },
      { path: join(root, 'usr/bin/link'), algos: ['sha256'], size: 0 },
    ]);
    assert.equal(
      (res[0] as { hashes: { sha256: string } }).hashes.sha256,
      (await import('node:crypto')).createHash('sha256').update('KEY-A\n').digest('hex'),
    );
    assert.deepEqual(res[1], { error: 'ENOENT' });
    assert.deepEqual(res[2], { error: 'ELOOP' });
  } finally {
    await pool.close();
  }
});

test('the baseline store round-trips entities and metadata', () => {
  const dir = mkdtempSync(join(tmpdir(), 'palisade-fimdb-'));
  temps.push(dir);
  const store = new BaselineStore(join(dir, 'b.db'));
  const e: Entity[] = [
    { kind: 'file', key: '/a', rule: 'r', attrs: { mode: 0o644, sha256: 'x', xattrs: ['user.a=1'] } },
    { kind: 'user', key: 'root', rule: 'u', attrs: { uid: 0, inactive: null } },
  ];
  store.save(e, { createdAt: '2026-01-01T00:00:00Z', root: '/', rulesSha256: 'abc', entities: 2 });
  assert.deepEqual(
    store.load().sort((a, b) => (a.key < b.key ? -1 : 1)),
    e,
  );
  assert.deepEqual(store.meta(), { createdAt: '2026-01-01T00:00:00Z', root: '/', rulesSha256: 'abc', entities: 2 });
  store.save(e.slice(1), { createdAt: '2026-01-02T00:00:00Z', root: '/', rulesSha256: 'abc', entities: 1 });
  assert.equal(store.load().length, 1);
  store.close();
});

test('followLinks walks into linked directories once, and survives a link loop', async () => {
  const root = mkdtempSync(join(tmpdir(), 'palisade-fimlinks-'));
  temps.push(root);
  mkdirSync(join(root, 'app/real'), { recursive: true });
  writeFileSync(join(root, 'app/real/conf'), 'x=1\n');
  symlinkSync('real', join(root, 'app/current'));
  symlinkSync('..', join(root, 'app/real/up')); // loop back to /app
  const load = (follow: boolean) => {
    const r = loadIntegrityRules(`rules:\n  - id: app\n    paths: [/app]\n    followLinks: ${follow}\n`);
    assert.ok(r.ok);
    return r.value;
  };
  const keys = async (follow: boolean) =>
    (await runFimScan(load(follow), { root, hashWorkers: 1 })).entities
      .filter((e) => e.kind === 'file')
      .map((e) => `${e.key}:${e.attrs.type}`)
      .sort();
  assert.deepEqual(
    await keys(false),
    ['/app:dir', '/app/current:symlink', '/app/real:dir', '/app/real/conf:file', '/app/real/up:symlink'].sort(),
  );
  const followed = await keys(true);
  // The link is recorded as what it points to; the loop back to /app is not entered twice.
  assert.ok(followed.includes('/app/current:dir'));
  assert.ok(followed.includes('/app/real/conf:file'));
  assert.ok(followed.length < 20, `walk terminated: ${followed.length} entries`);
});
