import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HashPool } from '../../fim/hash-pool.ts';
import { scanInventory } from './inventory-scanner.ts';
import { CompactPackageIndex, loadPackageDatabase, PackageDatabase, packagePathKey, topLevelAliases } from './package-database.ts';

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

test('the compact index: records read back as written, slots are reused, a changed or removed md5sums file updates it', async () => {
  const idx = new CompactPackageIndex();
  const sha = 'ab'.repeat(32);
  idx.set('/usr/bin/a', { manager: 'dpkg', name: 'pkg-a', algo: 'md5', digest: '0123456789abcdef0123456789abcdef' });
  idx.set('/usr/bin/b', { manager: 'rpm', name: 'pkg-b', algo: 'sha256', digest: sha });
  assert.deepEqual(idx.get('/usr/bin/a'), { manager: 'dpkg', name: 'pkg-a', algo: 'md5', digest: '0123456789abcdef0123456789abcdef' });
  assert.deepEqual(idx.get('/usr/bin/b'), { manager: 'rpm', name: 'pkg-b', algo: 'sha256', digest: sha });
  assert.equal(idx.get('/usr/bin/c'), undefined);
  assert.equal(idx.has('/usr/bin/a'), true);
  // Overwritten: a sha256 record replaced by an md5 one leaves no bytes of the old digest behind.
  idx.set('/usr/bin/b', { manager: 'dpkg', name: 'pkg-a', algo: 'md5', digest: 'ff'.repeat(16) });
  assert.deepEqual(idx.get('/usr/bin/b'), { manager: 'dpkg', name: 'pkg-a', algo: 'md5', digest: 'ff'.repeat(16) });
  // Many records (the arrays grow), then deleted and written again.
  const keys: number[] = [];
  for (let i = 0; i < 5000; i++)
    keys.push(idx.set(`/lib/f${i}`, { manager: 'dpkg', name: `p${i % 7}`, algo: 'md5', digest: md5(String(i)) }));
  assert.equal(idx.size, 5002);
  assert.equal(idx.get('/lib/f4321')?.digest, md5('4321'));
  assert.equal(idx.get('/lib/f4321')?.name, 'p2');
  for (const k of keys.slice(0, 2500)) idx.deleteKey(k);
  assert.equal(idx.get('/lib/f5'), undefined);
  for (let i = 0; i < 2500; i++)
    idx.set(`/opt/g${i}`, { manager: 'rpm', name: 'g', algo: 'sha256', digest: createHash('sha256').update(String(i)).digest('hex') });
  assert.equal(idx.size, 5002);
  assert.equal(idx.get('/opt/g17')?.digest, createHash('sha256').update('17').digest('hex'));
  assert.equal(idx.get('/lib/f4999')?.digest, md5('4999'));
  assert.notEqual(packagePathKey('/usr/bin/a'), packagePathKey('/usr/bin/b'));

  // The database keeps it current: a changed md5sums file replaces its records, a removed one drops them.
  const info = join(dir, 'info-refresh');
  mkdirSync(info);
  writeFileSync(join(info, 'one.md5sums'), `${md5('1')}  usr/bin/one\n${md5('x')}  usr/bin/gone-later\n`);
  writeFileSync(join(info, 'two.md5sums'), `${md5('2')}  usr/bin/two\n`);
  const db = new PackageDatabase({ dpkgInfoDir: info, rpm: false, root: join(dir, 'no-such-root') });
  assert.equal(db.index.size, 3);
  writeFileSync(join(info, 'one.md5sums'), `${md5('1b')}  usr/bin/one\n`);
  rmSync(join(info, 'two.md5sums'));
  // The stamp is the directory's mtime: make sure it moved even on a coarse clock.
  const later = new Date(Date.now() + 5000);
  utimesSync(info, later, later);
  utimesSync(join(info, 'one.md5sums'), later, later);
  assert.equal(db.refresh(), true);
  assert.equal(db.index.size, 1);
  assert.equal(db.index.get('/usr/bin/one')?.digest, md5('1b'));
  assert.equal(db.index.get('/usr/bin/two'), undefined);
  assert.equal(db.index.get('/usr/bin/gone-later'), undefined);
});
