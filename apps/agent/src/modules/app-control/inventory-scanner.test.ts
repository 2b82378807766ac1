import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { appendFileSync, chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HashPool } from '../../fim/hash-pool.ts';
import { scanInventory } from './inventory-scanner.ts';

const dir = mkdtempSync(join(tmpdir(), 'appctl-inv-'));
const pool = new HashPool(1);
after(async () => {
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
});

test('inventories ELF programs, libraries and scripts; skips data, excluded paths and symlinks; reuses unchanged hashes', async () => {
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'lib'));
  mkdirSync(join(dir, 'cache'));
  copyFileSync('/bin/true', join(dir, 'bin/tool'));
  writeFileSync(join(dir, 'bin/run.sh'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
  writeFileSync(join(dir, 'bin/odd'), 'not elf, not shebang', { mode: 0o755 });
  writeFileSync(join(dir, 'bin/readme.txt'), 'data', { mode: 0o644 });
  writeFileSync(join(dir, 'bin/notes.sh'), '#!/bin/sh\n', { mode: 0o644 }); // a script nobody can exec
  copyFileSync('/bin/true', join(dir, 'lib/libx.so.1'));
  chmodSync(join(dir, 'bin/tool'), 0o755);
  chmodSync(join(dir, 'lib/libx.so.1'), 0o644);
  copyFileSync('/bin/true', join(dir, 'cache/skip-me'));
  chmodSync(join(dir, 'cache/skip-me'), 0o755);
  symlinkSync('/bin/true', join(dir, 'bin/link'));

  const first = await scanInventory({ roots: [dir], exclude: [`${dir}/cache/`], pool });
  const kinds = Object.fromEntries([...first.files].map(([p, e]) => [p.slice(dir.length + 1), e.kind]));
  assert.deepEqual(kinds, { 'bin/tool': 'elf', 'bin/run.sh': 'script', 'bin/odd': 'executable', 'lib/libx.so.1': 'library' });
  const sha = createHash('sha256').update(readFileSync('/bin/true')).digest('hex');
  assert.equal(first.files.get(join(dir, 'bin/tool'))?.sha256, sha);
  assert.equal(first.hashed, 4);

  appendFileSync(join(dir, 'bin/run.sh'), '# changed\n');
  const second = await scanInventory({ roots: [dir], exclude: [`${dir}/cache/`], pool, previous: first.files });
  assert.equal(second.reused, 3);
  assert.equal(second.hashed, 1);
  assert.notEqual(second.files.get(join(dir, 'bin/run.sh'))?.sha256, first.files.get(join(dir, 'bin/run.sh'))?.sha256);
});
