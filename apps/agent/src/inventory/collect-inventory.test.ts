import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildRpmHeader } from '@palisade/vuln';
import Database from 'better-sqlite3';
import { collectInventory } from './collect-inventory.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const fixtures = path.join(repoRoot, 'packages/vuln/fixtures');
const tmp = mkdtempSync(path.join(tmpdir(), 'palisade-inventory-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Copies a committed fixture host into a temp dir so that the test works on its own copy. */
function host(name: string): string {
  const dest = path.join(tmp, name);
  cpSync(path.join(fixtures, name), dest, { recursive: true });
  return dest;
}

test('collects OS packages, npm, PyPI and Maven (nested) items from a fixture host', async () => {
  const inv = await collectInventory({ root: host('vulnerable-host') });
  assert.equal(inv.os?.ecosystem, 'Debian:9');
  const got = inv.items.map((i) => `${i.ecosystem} ${i.name}@${i.version} ${i.location}`).sort();
  const expectSome = [
    'Debian:9 libssl1.1@1.1.0l-1~deb9u5 /var/lib/dpkg/status',
    'Maven org.apache.struts:struts2-core@2.3.31 /opt/app/webapps/shop.war!WEB-INF/lib/struts2-core-2.3.31.jar',
    'Maven org.apache.logging.log4j:log4j-core@2.14.1 /opt/app/webapps/shop.war!WEB-INF/lib/log4j-core-2.14.1.jar',
    'Maven org.apache.commons:commons-text@1.9 /opt/app/lib/commons-text-1.9.jar',
    'Maven com.vendor:vendor-tool@2.1 /opt/app/lib/vendor-tool-2.1.jar',
    'npm lodash@4.17.15 /srv/shop-frontend/package-lock.json',
    'npm lodash@4.17.11 /opt/tools/node_modules/lodash/package.json',
    'PyPI PyYAML@5.3.1 /opt/venv/lib/python3.8/site-packages/PyYAML-5.3.1.dist-info/METADATA',
    'PyPI pandas@1.0.3 /opt/venv/lib/python3.8/site-packages/pandas-1.0.3-py3.8.egg-info/PKG-INFO',
    'Packagist drupal/core@10.4.8 /var/www/drupal/composer.lock',
  ];
  for (const e of expectSome) assert.ok(got.includes(e), `missing ${e}`);
  // The lockfile covers its node_modules: no second copy of the same packages from package.json.
  assert.equal(got.filter((g) => g.startsWith('npm lodash@4.17.15')).length, 1);
  assert.equal(got.filter((g) => g.startsWith('Debian:9')).length, 7, 'the deinstalled package is not counted');
  const corrupt = inv.diagnostics.filter((d) => d.code === 'VULN_JAR_CORRUPT');
  assert.deepEqual(corrupt.map((d) => d.file), ['/opt/app/lib/broken.jar']);
  assert.deepEqual(inv.ports, [], 'ports are read only from the live /proc');
});

test('node_modules without a lockfile: plain, scoped and nested packages', async () => {
  const root = path.join(tmp, 'node-only');
  const pkg = (rel: string, name: string, version: string) => {
    mkdirSync(path.join(root, rel), { recursive: true });
    writeFileSync(path.join(root, rel, 'package.json'), JSON.stringify({ name, version }));
  };
  pkg('srv/app', 'app', '1.0.0');
  pkg('srv/app/node_modules/lodash', 'lodash', '4.17.20');
  pkg('srv/app/node_modules/@babel/core', '@babel/core', '7.22.0');
  pkg('srv/app/node_modules/@babel/core/node_modules/semver', 'semver', '6.3.0');
  pkg('srv/app/node_modules/lodash/fp', 'lodash-fp-internal', '0.0.0');
  const inv = await collectInventory({ root, appDirs: ['srv'] });
  assert.deepEqual(inv.items.map((i) => `${i.name}@${i.version}`).sort(), ['@babel/core@7.22.0', 'lodash@4.17.20', 'semver@6.3.0']);
});

test('app dirs are configurable; "." walks the whole root', async () => {
  const root = host('patched-host');
  const onlySrv = await collectInventory({ root, appDirs: ['srv'] });
  assert.ok(onlySrv.items.every((i) => i.ecosystem === 'Debian:9' || i.ecosystem === 'npm'));
  const all = await collectInventory({ root, appDirs: ['.'] });
  assert.ok(all.items.some((i) => i.ecosystem === 'Maven'));
});

test('rpmdb.sqlite is read directly, without rpm installed', async () => {
  const root = path.join(tmp, 'rocky');
  mkdirSync(path.join(root, 'usr/lib/sysimage/rpm'), { recursive: true });
  mkdirSync(path.join(root, 'etc'), { recursive: true });
  writeFileSync(path.join(root, 'etc/os-release'), 'ID="rocky"\nVERSION_ID="9.3"\n');
  const db = new Database(path.join(root, 'usr/lib/sysimage/rpm/rpmdb.sqlite'));
  db.exec('CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)');
  const ins = db.prepare('INSERT INTO Packages (blob) VALUES (?)');
  ins.run(Buffer.from(buildRpmHeader({ name: 'openssl-libs', epoch: '1', version: '3.0.7', release: '27.el9', arch: 'x86_64', sourceRpm: 'openssl-3.0.7-27.el9.src.rpm' })));
  ins.run(Buffer.from([1, 2, 3]));
  db.close();
  const inv = await collectInventory({ root, appDirs: [] });
  assert.deepEqual(
    inv.items.map((i) => [i.ecosystem, i.name, i.version, i.sourceName]),
    [['Rocky Linux:9', 'openssl-libs', '1:3.0.7-27.el9', 'openssl']],
  );
  assert.deepEqual(inv.diagnostics.map((d) => d.code), ['VULN_INVENTORY_RPM_HEADER']);
});

test('ports and processes come from the given proc dir', async () => {
  const proc = path.join(tmp, 'proc');
  mkdirSync(path.join(proc, 'net'), { recursive: true });
  writeFileSync(
    path.join(proc, 'net/tcp'),
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0\n',
  );
  mkdirSync(path.join(proc, '4242/fd'), { recursive: true });
  writeFileSync(path.join(proc, '4242/comm'), 'sshd\n');
  symlinkSync('/dev/null', path.join(proc, '4242/fd/0'));
  symlinkSync('socket:[1]', path.join(proc, '4242/fd/3'));
  const inv = await collectInventory({ root: path.join(tmp, 'rocky'), appDirs: [], procDir: proc });
  assert.deepEqual(inv.ports.map((p) => `${p.protocol} ${p.address}:${p.port} ${p.process}/${p.pid}`), ['tcp 0.0.0.0:22 sshd/4242']);
  writeFileSync(path.join(proc, '4242/status'), 'Name:\tsshd\nUid:\t0\t0\t0\t0\n');
  symlinkSync('/usr/sbin/sshd', path.join(proc, '4242/exe'));
  mkdirSync(path.join(proc, '2'));
  writeFileSync(path.join(proc, '2/comm'), 'kthreadd\n');
  const again = await collectInventory({ root: path.join(tmp, 'rocky'), appDirs: [], procDir: proc });
  assert.deepEqual(again.processes, [
    { pid: 2, name: 'kthreadd' },
    { pid: 4242, name: 'sshd', exe: '/usr/sbin/sshd', uid: 0 },
  ]);
});
