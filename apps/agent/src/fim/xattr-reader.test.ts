import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { diffEntities, loadIntegrityRules } from '@palisade/integrity';
import { runFimScan } from './fim-scan.ts';
import { formatAcl, formatCapabilities, XattrReader } from './xattr-reader.ts';

test('capabilities and ACLs are decoded the way getcap and getfacl print them', () => {
  // vfs_cap_data revision 2, effective, permitted cap_net_bind_service (10) + cap_net_raw (13).
  const caps = Buffer.alloc(20);
  caps.writeUInt32LE(0x02000001, 0);
  caps.writeUInt32LE((1 << 10) | (1 << 13), 4);
  assert.equal(formatCapabilities(caps), 'cap_net_bind_service,cap_net_raw=ep');
  caps.writeUInt32LE(0x02000000, 0);
  caps.writeUInt32LE(1 << 7, 8);
  caps.writeUInt32LE(1 << 6, 16); // bit 38: cap_perfmon, in the high word
  assert.equal(formatCapabilities(caps), 'cap_net_bind_service,cap_net_raw=p cap_setuid,cap_perfmon=i');
  // posix_acl_xattr version 2: user::rw-, user:1000:r--, group::r--, mask::r--, other::---
  const entries: [number, number, number][] = [
    [1, 6, 0xffffffff],
    [2, 4, 1000],
    [4, 4, 0xffffffff],
    [0x10, 4, 0xffffffff],
    [0x20, 0, 0xffffffff],
  ];
  const acl = Buffer.alloc(4 + entries.length * 8);
  acl.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    acl.writeUInt16LE(tag, 4 + i * 8);
    acl.writeUInt16LE(perm, 6 + i * 8);
    acl.writeUInt32LE(id, 8 + i * 8);
  });
  assert.equal(formatAcl(acl), 'user::rw-,user:1000:r--,group::r--,mask::r--,other::---');
});

const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-xattr-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** lsetxattr through perl, the same way the reader gets them (no setfattr on this image). */
function setXattr(path: string, name: string, value: Buffer): void {
  const nr = process.arch === 'arm64' ? 6 : 189;
  execFileSync('perl', [
    '-e',
    'my ($nr, $p, $n, $hex) = @ARGV; my $v = pack("H*", $hex); syscall($nr, $p, $n, $v, length($v), 0) == 0 or die "$!\\n";',
    String(nr),
    path,
    name,
    value.toString('hex'),
  ]);
}

const reader = XattrReader.open();
reader?.close();

test('a scan reads xattrs, ACLs and capabilities, and a change to them is a change', {
  skip: reader ? false : 'no perl or no syscall table for this architecture',
}, async () => {
  const f = join(dir, 'tool');
  writeFileSync(f, '#!/bin/sh\n');
  writeFileSync(join(dir, 'plain'), 'x\n');
  setXattr(f, 'user.origin', Buffer.from('vendor'));
  const loaded = loadIntegrityRules(`version: 1\nrules:\n  - id: t\n    paths: [/]\n`);
  assert.ok(loaded.ok);
  const before = await runFimScan(loaded.value, { root: dir, xattrs: true });
  const tool = before.entities.find((e) => e.key === '/tool')!;
  assert.deepEqual(tool.attrs.xattrs, ['user.origin=vendor']);
  assert.deepEqual(before.entities.find((e) => e.key === '/plain')!.attrs.xattrs, []);
  assert.equal(tool.attrs.caps, '');
  assert.equal(tool.attrs.acl, '');
  const without = await runFimScan(loaded.value, { root: dir });
  assert.equal(without.entities.find((e) => e.key === '/tool')!.attrs.xattrs, undefined, 'off unless asked');

  setXattr(f, 'user.origin', Buffer.from('attacker'));
  const isRoot = process.getuid?.() === 0;
  if (isRoot) {
    // A file capability is the quiet way to a privileged binary: no SUID bit to notice.
    const caps = Buffer.alloc(20);
    caps.writeUInt32LE(0x02000001, 0);
    caps.writeUInt32LE(1 << 7, 4);
    setXattr(f, 'security.capability', caps);
  }
  const later = await runFimScan(loaded.value, { root: dir, xattrs: true, previous: before.entities });
  const changes = diffEntities(before.entities, later.entities, loaded.value);
  const change = changes.find((c) => c.key === '/tool')!;
  const xa = change.attributes.find((a) => a.name === 'xattrs')!;
  assert.deepEqual([xa.before, xa.after], [['user.origin=vendor'], ['user.origin=attacker']]);
  if (isRoot) {
    const caps = change.attributes.find((a) => a.name === 'caps')!;
    assert.deepEqual([caps.before, caps.after], ['', 'cap_setuid=ep']);
  }
  // Unchanged files keep the baseline's entity (their xattrs were read once).
  assert.equal(
    later.entities.find((e) => e.key === '/plain'),
    before.entities.find((e) => e.key === '/plain'),
  );
});
