import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HashPool } from '../../fim/hash-pool.ts';
import { scanInventory } from './inventory-scanner.ts';
import { loadPackageDatabase, topLevelAliases } from './package-database.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-pkgdb-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');

test('a fixture dpkg info directory: owners, MD5 records, and the inventory marks intact and modified package files', async () => {
  const root = join(dir, 'root');
  const info = join(dir, 'info');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  mkdirSync(info);
  const elf = readFileSync('/bin/true');
  writeFileSync(join(root, 'usr/bin/tool'), elf, { mode: 0o755 });
  writeFileSync(join(root, 'usr/bin/patched'), Buffer.concat([elf, Buffer.from('x')]), { mode: 0o755 });
  writeFileSync(join(root, 'usr/bin/mine'), Buffer.concat([elf, Buffer.from('y')]), { mode: 0o755 });
  // The package's paths are relative to `/`: point them at the fixture root.
  const rel = root.slice(1);
  writeFileSync(join(info, 'tools:amd64.md5sums'), `${md5(elf)}  ${rel}/usr/bin/tool\n${md5(elf)}  ${rel}/usr/bin/patched\n`);
  writeFileSync(join(info, 'tools.list'), 'ignored\n');
  const db = loadPackageDatabase({ dpkgInfoDir: info, rpm: false, root: dir });
  assert.deepEqual(db.sources, ['dpkg']);
  assert.equal(db.index.get(join(root, 'usr/bin/tool'))?.name, 'tools');

  const pool = new HashPool(1);
  try {
    const r = await scanInventory({ roots: [root], exclude: [], pool, packages: db.index });
    assert.deepEqual(r.files.get(join(root, 'usr/bin/tool'))?.pkg, { manager: 'dpkg', name: 'tools', intact: true });
    assert.deepEqual(r.files.get(join(root, 'usr/bin/patched'))?.pkg, { manager: 'dpkg', name: 'tools', intact: false });
    assert.equal(r.files.get(join(root, 'usr/bin/mine'))?.pkg, undefined);
    // A rescan reuses the stored package digest instead of reading the file again.
    const again = await scanInventory({ roots: [root], exclude: [], pool, packages: db.index, previous: r.files });
    assert.equal(again.hashed, 0);
    assert.deepEqual(again.files.get(join(root, 'usr/bin/tool'))?.pkg?.intact, true);
  } finally {
    await pool.close();
  }
});

test('usr-merge aliases of a root', () => {
  const root = join(dir, 'merged');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  symlinkSync('usr/bin', join(root, 'bin'));
  assert.deepEqual([...topLevelAliases(root)], [['/bin', '/usr/bin']]);
});

test("this machine's dpkg database: a real package binary's MD5 matches its record", { skip: !existsSync('/var/lib/dpkg/info') }, () => {
  const db = loadPackageDatabase({ rpm: false });
  assert.ok(db.index.size > 100, `${db.index.size} files`);
  // coreutils ships /bin/true (or /usr/bin/true); with usr-merge the index holds the /usr path.
  const path = ['/usr/bin/true', '/bin/true'].find((p) => db.index.has(p));
  assert.ok(path, 'true is owned by a package');
  const owner = db.index.get(path)!;
  assert.equal(owner.manager, 'dpkg');
  assert.equal(owner.algo, 'md5');
  assert.equal(owner.digest, md5(readFileSync(path)));
  assert.ok(readdirSync('/var/lib/dpkg/info').some((f) => f.startsWith(`${owner.name}.`) || f.startsWith(`${owner.name}:`)));
});
