import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffEntities, summarizeChanges } from './baseline-diff.ts';
import type { Entity } from './entity.ts';
import { fileEntity, type FileStat } from './file-entity.ts';
import { loadIntegrityRules } from './load-integrity-rules.ts';

const rules = (() => {
  const r = loadIntegrityRules(`rules:
  - id: ro
    paths: [/ro]
    mask: ReadOnly
    severity: high
  - id: dyn
    paths: [/dyn]
    mask: Dynamic
  - id: grow
    paths: [/log]
    mask: Growing
    severity: low
  - id: presence
    paths: [/tmp]
    mask: IgnoreAll
  - id: custom
    paths: [/custom]
    mask: [mode, sha256]
  - id: users
    type: users
`);
  assert.ok(r.ok, JSON.stringify(r.diagnostics));
  return r.value;
})();

const base: FileStat = { mode: 0o100644, uid: 0, gid: 0, size: 10, ino: 100, dev: 1, nlink: 1, mtimeMs: 1000, ctimeMs: 1000 };
function file(path: string, rule: string, over: Partial<FileStat> = {}, sha = 'aa', target?: string): Entity {
  return fileEntity(
    path,
    { ...base, ...over },
    rule,
    { hashes: { sha256: sha }, ...(target ? { target } : {}) },
    { user: (u) => (u === 0 ? 'root' : `u${u}`), group: () => 'root' },
  );
}
const diff = (a: Entity[], b: Entity[]) => diffEntities(a, b, rules);
const attrNames = (a: Entity[], b: Entity[]) => diff(a, b).flatMap((c) => c.attributes.map((x) => x.name));

test('ReadOnly reports content, mode, owner and mtime changes with before and after', () => {
  const before = [file('/ro/a', 'ro')];
  assert.deepEqual(diff(before, [file('/ro/a', 'ro')]), []);
  const c = diff(before, [file('/ro/a', 'ro', { size: 11, mtimeMs: 2000 }, 'bb')]);
  assert.equal(c.length, 1);
  assert.equal(c[0]!.change, 'updated');
  assert.equal(c[0]!.severity, 'high');
  assert.deepEqual(c[0]!.attributes, [
    { name: 'mtime', before: 1000, after: 2000 },
    { name: 'sha256', before: 'aa', after: 'bb' },
    { name: 'size', before: 10, after: 11 },
  ]);
  assert.deepEqual(attrNames(before, [file('/ro/a', 'ro', { mode: 0o100600 })]), ['mode']);
  assert.deepEqual(attrNames(before, [file('/ro/a', 'ro', { uid: 1000 })]), ['uid', 'user']);
  // ctime alone is not in ReadOnly: a chmod back and forth leaves no report.
  assert.deepEqual(diff(before, [file('/ro/a', 'ro', { ctimeMs: 5000 })]), []);
});

test('Dynamic ignores content but not permissions', () => {
  const before = [file('/dyn/a', 'dyn')];
  assert.deepEqual(diff(before, [file('/dyn/a', 'dyn', { size: 99, mtimeMs: 9 }, 'zz')]), []);
  assert.deepEqual(attrNames(before, [file('/dyn/a', 'dyn', { mode: 0o100666 })]), ['mode']);
});

test('Growing accepts a bigger file and reports a smaller one', () => {
  const before = [file('/log/syslog', 'grow', { size: 500 })];
  assert.deepEqual(diff(before, [file('/log/syslog', 'grow', { size: 900, mtimeMs: 5 }, 'other')]), []);
  const c = diff(before, [file('/log/syslog', 'grow', { size: 10 })]);
  assert.deepEqual(c[0]!.attributes, [{ name: 'size', before: 500, after: 10 }]);
  assert.equal(c[0]!.severity, 'low');
});

test('IgnoreAll reports only creation and deletion', () => {
  const before = [file('/tmp/a', 'presence')];
  assert.deepEqual(diff(before, [file('/tmp/a', 'presence', { mode: 0o100777, size: 1 }, 'x')]), []);
  const created = diff(before, [file('/tmp/a', 'presence'), file('/tmp/b', 'presence', { ino: 7 })]);
  assert.deepEqual(
    created.map((c) => `${c.change} ${c.key}`),
    ['created /tmp/b'],
  );
  const deleted = diff(before, []);
  assert.deepEqual(
    deleted.map((c) => `${c.change} ${c.key}`),
    ['deleted /tmp/a'],
  );
  assert.equal(deleted[0]!.before?.sha256, 'aa');
});

test('a custom attribute list compares exactly those attributes', () => {
  const before = [file('/custom/a', 'custom')];
  assert.deepEqual(diff(before, [file('/custom/a', 'custom', { uid: 5, mtimeMs: 7 })]), []);
  assert.deepEqual(attrNames(before, [file('/custom/a', 'custom', { mode: 0o100600 }, 'cc')]), ['mode', 'sha256']);
});

test('a move keeps the inode and becomes one rename', () => {
  const c = diff([file('/ro/old', 'ro')], [file('/ro/new', 'ro', { ctimeMs: 4000 })]);
  assert.deepEqual(
    c.map((x) => [x.change, x.from, x.key, x.attributes.length]),
    [['renamed', '/ro/old', '/ro/new', 0]],
  );
});

test('a reused inode with other content is a deletion and a creation, not a rename', () => {
  const c = diff([file('/ro/old', 'ro')], [file('/ro/new', 'ro', {}, 'different')]);
  assert.deepEqual(c.map((x) => x.change).sort(), ['created', 'deleted']);
});

test('a symlink retarget is reported on the target attribute', () => {
  const link = { mode: 0o120777 };
  const c = diff([file('/ro/l', 'ro', link, 'aa', '/bin/a')], [file('/ro/l', 'ro', link, 'aa', '/tmp/evil')]);
  assert.deepEqual(c[0]!.attributes, [{ name: 'target', before: '/bin/a', after: '/tmp/evil' }]);
});

test('a new SUID file and a gained SUID bit are flagged', () => {
  const created = diff([], [file('/ro/sh', 'ro', { mode: 0o104755 })]);
  assert.deepEqual(created[0]!.flags, ['setid-added']);
  assert.equal(created[0]!.after?.mode, 0o4755);
  const gained = diff([file('/ro/sh', 'ro', { mode: 0o100755 })], [file('/ro/sh', 'ro', { mode: 0o102755 })]);
  assert.deepEqual(gained[0]!.flags, ['setid-added']);
  const dropped = diff([file('/ro/sh', 'ro', { mode: 0o104755 })], [file('/ro/sh', 'ro', { mode: 0o100755 })]);
  assert.deepEqual(dropped[0]!.flags, []);
});

test('entities no rule claims any more are not reported as deleted', () => {
  assert.deepEqual(diff([file('/elsewhere/a', 'gone')], []), []);
});

test('a hash only one side has is not a change (hash set of the rule changed, or unreadable)', () => {
  const noHash = fileEntity('/ro/a', base, 'ro');
  assert.deepEqual(diff([file('/ro/a', 'ro')], [noHash]), []);
});

test('summaries count by kind and severity', () => {
  const s = summarizeChanges(diff([file('/ro/a', 'ro'), file('/tmp/x', 'presence', { ino: 9 })], [file('/ro/a', 'ro', {}, 'b')]));
  assert.equal(s.updated, 1);
  assert.equal(s.deleted, 1);
  assert.equal(s.bySeverity.high, 1);
  assert.equal(s.bySeverity.medium, 1);
});
