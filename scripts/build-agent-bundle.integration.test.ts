import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { sendRaw, serializeRequest } from '../apps/agent/src/modules/ips/raw-http-client.ts';
import { freePort, type ManagerProcess, startManagerProcess, waitFor } from '../e2e/support/real-processes.ts';
import { type AgentBundle, buildAgentBundle } from './build-agent-bundle.ts';
import { buildAgentDeb } from './build-agent-bundle-deb.ts';
import { buildAgentRpm, rpmbuildAvailable, usesSystemdFallback } from './build-agent-bundle-rpm.ts';

/**
 * The agent bundle as an operator gets it: built by the build script, unpacked, installed with
 * its install.sh into a fresh prefix, activated against a real manager and run; the bundled IPS
 * (engine worker thread, shipped virtual patches, re2) blocks a real exploit. Then uninstalled.
 * The .deb installs into this machine with dpkg and is removed and purged without a trace; the
 * .rpm is built with rpmbuild and installed and erased in a throw-away root.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-bundle-'));
let bundle: AgentBundle;
let manager: ManagerProcess;

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

before(async () => {
  bundle = await buildAgentBundle({ outDir: join(dir, 'out') });
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
});

after(async () => {
  await manager?.proc.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the bundle and its checksum file matches it', () => {
  const sum = createHash('sha256').update(readFileSync(bundle.tarball)).digest('hex');
  assert.equal(sum, bundle.sha256);
  assert.equal(readFileSync(bundle.sha256File, 'utf8'), `${sum}  palisade-agent-${bundle.version}-linux-x64.tar.gz\n`);
  // sha256sum -c is what operators (and the deployment script) run
  assert.equal(sh('sh', ['-c', `cd "${join(dir, 'out')}" && sha256sum -c "${bundle.sha256File}"`]).code, 0);
  const listing = execFileSync('tar', ['-tzf', bundle.tarball], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n');
  const top = `palisade-agent-${bundle.version}-linux-x64/`;
  for (const f of [
    'bin/palisade',
    'lib/palisade.mjs',
    'lib/workers/inspection-worker.mjs',
    'lib/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
    'lib/node_modules/re2/build/Release/re2.node',
    'share/rules/ips/CVE-2020-5902/rule.conf',
    'systemd/palisade-agent.service',
    'install.sh',
    'uninstall.sh',
    'VERSION',
  ]) {
    assert.ok(listing.includes(top + f), `${f} in the tarball`);
  }
  // nothing of the manager, the console or the build tools goes into the agent's bundle
  const js = readFileSync(join(bundle.dir, 'lib', 'palisade.mjs'), 'utf8');
  // strings only the manager's routes and the build script hold
  assert.ok(!js.includes('API_INVALID_REFERENCE'), 'no manager code in the agent bundle');
  assert.ok(!js.includes('palisade-asset-relocation'), 'no build code in the agent bundle');
  for (const pkg of ['fastify', '@fastify/swagger', 'esbuild', 'tsx']) {
    assert.doesNotMatch(js, new RegExp(`(from|require\\(|import\\()\\s*["']${pkg}["']`), `${pkg} is not in the agent bundle`);
  }
});

test('install.sh installs into a fresh prefix; the bundled agent activates, runs the IPS and blocks an exploit; uninstall.sh removes it', async () => {
  const unpacked = join(dir, 'unpacked');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', bundle.tarball, '-C', unpacked]);
  const prefix = join(dir, 'prefix');
  const dataDir = join(dir, 'data');
  const env = { PALISADE_PREFIX: prefix, PALISADE_DATA_DIR: dataDir, PALISADE_NO_SYSTEMD: '1' };
  const install = sh('sh', [join(unpacked, `palisade-agent-${bundle.version}-linux-x64`, 'install.sh')], env);
  assert.equal(install.code, 0, install.stderr);
  assert.match(install.stdout, new RegExp(`installed ${bundle.version} in ${prefix}`));
  // the unit in the prefix names the prefix and the data dir; systemd accepts it
  const unit = readFileSync(join(prefix, 'systemd', 'palisade-agent.service'), 'utf8');
  assert.match(unit, new RegExp(`ExecStart=${prefix}/bin/palisade agent start --data-dir ${dataDir}`));
  const verify = sh('systemd-analyze', ['verify', join(prefix, 'systemd', 'palisade-agent.service')]);
  if (verify.code !== null) assert.equal(verify.code, 0, verify.stderr);

  let upstreamHits = 0;
  const upstream = http.createServer((req, res) => {
    upstreamHits++;
    req.resume();
    res.end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  const proxyPort = await freePort();
  const policyId = (
    await manager.client.createPolicy({
      name: 'bundle',
      settings: {
        heartbeatSeconds: 2,
        modules: {
          ips: {
            enabled: true,
            mode: 'prevent',
            settings: {
              services: [
                {
                  name: 'shop',
                  listen: { host: '127.0.0.1', port: proxyPort },
                  upstream: { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port },
                },
              ],
              // the patch pack shipped in the bundle (share/rules/ips), in the bundled worker
              ruleSets: { patches: { only: ['CVE-2020-5902'] } },
              engineWorker: { timeoutMs: 5000 },
            },
          },
        },
      },
    })
  ).id;
  const { token } = await manager.client.createToken({ maxUses: 1, ttlSeconds: 600, policyId });
  const palisade = join(prefix, 'bin', 'palisade');
  const act = sh(palisade, ['agent', 'activate', '--manager', manager.url, '--ca', manager.caFile, '--data-dir', dataDir, '--json'], {
    PALISADE_ACTIVATION_TOKEN: token,
  });
  assert.equal(act.code, 0, act.stderr);
  const { agentId } = JSON.parse(act.stdout) as { agentId: string };

  // the bundle's own command from a neutral cwd, so nothing resolves from the repository
  const child = spawn(palisade, ['agent', 'start', '--data-dir', dataDir, '--inventory-interval', '0'], { stdio: 'ignore', cwd: '/' });
  const exited = new Promise((r) => child.on('exit', r));
  try {
    await waitFor(
      'bundled IPS proxy answering',
      async () =>
        (
          await sendRaw(
            { host: '127.0.0.1', port: proxyPort },
            serializeRequest({ method: 'GET', uri: '/', headers: [], body: '' }, 'shop'),
            2000,
          )
        ).status === 200,
      60_000,
      250,
    );
    const hits = upstreamHits;
    const res = await sendRaw(
      { host: '127.0.0.1', port: proxyPort },
      serializeRequest(
        { method: 'GET', uri: '/tmui/login.jsp/..;/tmui/locallb/workspace/fileRead.jsp?fileName=/etc/passwd', headers: [], body: '' },
        'shop',
      ),
    );
    assert.equal(res.status, 403);
    assert.equal(upstreamHits, hits, 'the exploit never reached the upstream');
    const computer = await waitFor('agent online', async () => {
      const c = await manager.client.getComputer(agentId);
      return c.status === 'online' ? c : undefined;
    });
    assert.equal(computer.policyId, policyId);
    const status = sh(palisade, ['agent', 'status', '--data-dir', dataDir, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const st = JSON.parse(status.stdout) as { modules: Record<string, { state: string }>; agentVersion: string };
    assert.equal(st.modules.ips?.state, 'running');
    assert.equal(st.agentVersion, bundle.version);
  } finally {
    child.kill('SIGTERM');
    await exited;
    upstream.close();
  }

  // installing the same bundle again over the install works (upgrade path) and changes nothing else
  assert.equal(sh('sh', [join(unpacked, `palisade-agent-${bundle.version}-linux-x64`, 'install.sh')], env).code, 0);
  const un = sh(join(prefix, 'uninstall.sh'), []);
  assert.equal(un.code, 0, un.stderr);
  assert.ok(!existsSync(prefix), 'prefix removed');
  assert.ok(existsSync(join(dataDir, 'agent.json')), 'without --purge the identity stays');
  // reinstall, then uninstall with --purge: the data dir goes too
  assert.equal(sh('sh', [join(unpacked, `palisade-agent-${bundle.version}-linux-x64`, 'install.sh')], env).code, 0);
  assert.equal(sh(join(prefix, 'uninstall.sh'), ['--purge']).code, 0);
  assert.ok(!existsSync(prefix) && !existsSync(dataDir), 'prefix and data dir removed');
});

test('install.sh refuses clearly: a prefix it did not make, a relative prefix', () => {
  const unpacked = join(dir, 'unpacked-2');
  mkdirSync(unpacked);
  execFileSync('tar', ['-xzf', bundle.tarball, '-C', unpacked]);
  const install = join(unpacked, `palisade-agent-${bundle.version}-linux-x64`, 'install.sh');
  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  execFileSync('touch', [join(foreign, 'precious')]);
  const r1 = sh('sh', [install, '--prefix', foreign, '--no-systemd']);
  assert.equal(r1.code, 1);
  assert.match(r1.stderr, /was not made by this installer/);
  assert.ok(existsSync(join(foreign, 'precious')));
  const r2 = sh('sh', [install, '--prefix', 'relative/dir', '--no-systemd']);
  assert.equal(r2.code, 1);
  assert.match(r2.stderr, /must be an absolute path/);
});

test('the .deb installs with dpkg and is removed and purged without leaving anything', (t) => {
  if (process.getuid?.() !== 0) return t.skip('dpkg -i needs root');
  if (sh('dpkg-deb', ['--version']).code !== 0) return t.skip('dpkg-deb is not installed');
  if (existsSync('/opt/palisade') || sh('dpkg', ['-s', 'palisade-agent']).code === 0) {
    return t.skip('/opt/palisade or the palisade-agent package already exists on this machine');
  }
  const deb = buildAgentDeb(bundle, join(dir, 'out'));
  // the glibc bound covers what the addons were linked against (a host with an older glibc
  // would install the package and then fail to load re2)
  const libc = /libc6 \(>= (\d+)\.(\d+)\)/.exec(sh('dpkg-deb', ['-f', deb, 'Depends']).stdout);
  assert.ok(libc, 'Depends names libc6');
  const re2 = join(bundle.dir, 'lib/node_modules/re2/build/Release/re2.node');
  for (const m of execFileSync('objdump', ['-T', re2], { encoding: 'utf8', maxBuffer: 64 << 20 }).matchAll(/GLIBC_(\d+)\.(\d+)/g)) {
    const [need, have] = [Number(m[1]) * 1000 + Number(m[2]), Number(libc[1]) * 1000 + Number(libc[2])];
    assert.ok(need <= have, `re2.node needs GLIBC_${m[1]}.${m[2]}, the package says libc6 >= ${libc[1]}.${libc[2]}`);
  }
  try {
    const inst = sh('dpkg', ['-i', deb]);
    assert.equal(inst.code, 0, inst.stderr);
    const files = sh('dpkg', ['-L', 'palisade-agent']).stdout.split('\n').filter(Boolean);
    assert.ok(files.includes('/opt/palisade/bin/palisade'));
    assert.ok(files.includes('/lib/systemd/system/palisade-agent.service'));
    const version = sh('/opt/palisade/bin/palisade', ['--version']);
    assert.equal(version.stdout.trim(), bundle.version, version.stderr);
    // a data dir as activation would leave it: remove keeps it, purge deletes it
    mkdirSync('/var/lib/palisade-agent', { recursive: true });
    execFileSync('touch', ['/var/lib/palisade-agent/agent.json']);
    assert.equal(sh('dpkg', ['-r', 'palisade-agent']).code, 0);
    for (const f of files) {
      // directories shared with other packages (/lib, /opt, ...) stay
      if (f.startsWith('/opt/palisade') || f.endsWith('.service')) assert.ok(!existsSync(f), `${f} removed`);
    }
    assert.ok(existsSync('/var/lib/palisade-agent/agent.json'), 'dpkg -r keeps the identity');
    assert.equal(sh('dpkg', ['--purge', 'palisade-agent']).code, 0);
    assert.ok(!existsSync('/var/lib/palisade-agent'), 'purge removes the data dir');
    assert.ok(!existsSync('/opt/palisade'));
    assert.notEqual(sh('dpkg', ['-s', 'palisade-agent']).code, 0, 'no package left in the dpkg database');
  } finally {
    sh('dpkg', ['--purge', 'palisade-agent']);
    rmSync('/var/lib/palisade-agent', { recursive: true, force: true });
  }
});

test('the RPM spec names the tarball the build makes and installs only what the bundle holds', () => {
  const spec = readFileSync(join(import.meta.dirname, '..', 'deploy', 'agent-bundle', 'palisade-agent.spec'), 'utf8');
  const tag = (name: string) => spec.match(new RegExp(`^${name}:\\s*(.+)$`, 'm'))?.[1]?.trim();
  assert.equal(tag('Name'), 'palisade-agent');
  assert.equal(tag('Version'), bundle.version, 'spec Version follows package.json');
  assert.equal(tag('Source0')?.replace('%{version}', bundle.version), `palisade-agent-${bundle.version}-linux-x64.tar.gz`);
  for (const section of ['%description', '%prep', '%install', '%files', '%changelog']) assert.match(spec, new RegExp(`^${section}$`, 'm'));
  const setupDir = spec.match(/^%setup -q -n (.+)$/m)?.[1]?.replace('%{version}', bundle.version);
  assert.equal(setupDir, `palisade-agent-${bundle.version}-linux-x64`);
  // every path %install copies exists in the unpacked bundle
  const copied = spec.match(/^cp -a (.+) %\{buildroot\}\/opt\/palisade\/$/m)?.[1]?.split(/\s+/) ?? [];
  assert.ok(copied.length > 0);
  for (const p of copied) assert.ok(existsSync(join(bundle.dir, p)), `${p} in the bundle`);
  assert.ok(existsSync(join(bundle.dir, spec.match(/^install -m 0644 (\S+) /m)![1]!)));
  const files = spec
    .split(/^%files$/m)[1]!
    .split(/^%changelog$/m)[0]!
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
  for (const f of files.filter((f) => f.startsWith('/opt/palisade/'))) {
    assert.ok(existsSync(join(bundle.dir, f.slice('/opt/palisade/'.length))), `${f} is installed`);
  }
  assert.ok(readdirSync(bundle.dir).length > 0);
});

/** Every file (not directory) under `dir`, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => !d.isDirectory())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/**
 * A root just large enough for the package's scriptlets, which rpm runs chrooted into it: /bin/sh
 * and /bin/rm with their libraries, /dev/null, and a `systemctl` that records its arguments
 * (there is no systemd to talk to in a chroot; what the scriptlets ask of it is what is checked).
 */
function scriptletRoot(root: string): string {
  const log = join(root, 'systemctl.log');
  for (const bin of ['/bin/sh', '/bin/rm']) {
    const real = execFileSync('readlink', ['-f', bin], { encoding: 'utf8' }).trim();
    const libs = execFileSync('ldd', [real], { encoding: 'utf8' }).match(/\/\S+/g) ?? [];
    for (const f of [real, ...libs]) {
      const to = join(root, f === real ? bin : f);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(f, to);
      chmodSync(to, 0o755);
    }
  }
  mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
  writeFileSync(join(root, 'usr', 'bin', 'systemctl'), '#!/bin/sh\necho "$*" >> /systemctl.log\n', { mode: 0o755 });
  mkdirSync(join(root, 'dev'));
  execFileSync('mknod', ['-m', '666', join(root, 'dev', 'null'), 'c', '1', '3']);
  mkdirSync(join(root, 'var', 'lib', 'rpm'), { recursive: true });
  return log;
}

test('the .rpm builds with rpmbuild, says what it needs, and installs and erases in a throw-away root', (t) => {
  if (!rpmbuildAvailable()) return t.skip('rpmbuild is not installed (Debian: apt-get install rpm)');
  const rpm = buildAgentRpm(bundle, join(dir, 'out'));
  assert.equal(rpm, join(dir, 'out', `palisade-agent-${bundle.version}-1.x86_64.rpm`));
  const q = (...a: string[]) => {
    const r = sh('rpm', ['-qp', ...a, rpm]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const info = q('-i');
  for (const [k, v] of [
    ['Name', 'palisade-agent'],
    ['Version', bundle.version],
    ['Release', '1'],
    ['Architecture', 'x86_64'],
    ['License', 'Apache-2.0'],
  ]) {
    assert.match(info, new RegExp(`^${k}\\s*: ${v}$`, 'm'), `${k}: ${v}`);
  }
  // files: the whole bundle under /opt/palisade, the unit, nothing else
  const files = q('-l').split('\n').filter(Boolean);
  const expected = [
    ...['bin', 'lib', 'share'].flatMap((p) => filesUnder(join(bundle.dir, p)).map((f) => `/opt/palisade/${p}/${f}`)),
    '/opt/palisade/VERSION',
    '/usr/lib/systemd/system/palisade-agent.service',
  ];
  const listedFiles = files.filter((f) => expected.includes(f));
  assert.equal(listedFiles.length, expected.length, 'every file of the bundle is in the package');
  for (const f of files)
    assert.ok(f.startsWith('/opt/palisade') || f === '/usr/lib/systemd/system/palisade-agent.service', `${f} belongs to the package`);
  // owners and modes: root, the launcher executable
  const dump = q('--dump');
  const launcher = dump
    .split('\n')
    .find((l) => l.startsWith('/opt/palisade/bin/palisade '))!
    .split(' ');
  assert.equal(Number.parseInt(launcher[4]!, 8) & 0o777, 0o755);
  assert.deepEqual([launcher[5], launcher[6]], ['root', 'root']);
  // requires: Node.js, systemd for the scriptlets, the glibc the addons were linked against
  const requires = q('--requires');
  assert.match(requires, /^nodejs >= 1:20\.19$/m);
  assert.match(requires, /^systemd$/m);
  assert.match(requires, /^libc\.so\.6\(GLIBC_2\.\d+\)\(64bit\)$/m);
  assert.match(q('--recommends'), /^nftables$/m);
  assert.equal(q('--provides').includes('.node'), false, 'the private addons provide nothing');
  const scripts = q('--scripts');
  // The exact scriptlets below are those of deploy/rpm/macros.systemd-fallback (this Debian CI);
  // a Fedora/RHEL build host writes its own systemd macros' (systemd-update-helper) instead.
  const fallback = usesSystemdFallback();
  if (!fallback) t.diagnostic('this host has its own systemd rpm macros: only the data-dir removal of the scriptlets is checked');
  assert.match(scripts, /postuninstall scriptlet[\s\S]*rm -rf \/var\/lib\/palisade-agent/);
  if (fallback) {
    assert.match(scripts, /postinstall scriptlet[\s\S]*systemctl --no-reload preset palisade-agent\.service/);
    assert.match(scripts, /preuninstall scriptlet[\s\S]*systemctl --no-reload disable --now palisade-agent\.service/);
    assert.match(scripts, /postuninstall scriptlet[\s\S]*systemctl try-restart palisade-agent\.service/);
  }

  // install + erase into a root of its own: rpm --root chroots for the scriptlets, which needs root
  if (process.getuid?.() !== 0) return t.skip('rpm --root runs the scriptlets in a chroot: needs root');
  const root = join(dir, 'rpm-root');
  const systemctlLog = scriptletRoot(root);
  const rpmIn = (...a: string[]) => sh('rpm', ['--root', root, '--dbpath', '/var/lib/rpm', ...a]);
  assert.equal(rpmIn('--initdb').code, 0);
  // --nodeps: the root's package database is empty (no nodejs, glibc or systemd package in it)
  const inst = rpmIn('-i', '--nodeps', rpm);
  assert.equal(inst.code, 0, inst.stderr);
  assert.doesNotMatch(inst.stderr, /scriptlet failed|error:/i);
  assert.equal(rpmIn('-q', 'palisade-agent').stdout.trim(), `palisade-agent-${bundle.version}-1.x86_64`);
  const verify = rpmIn('-V', '--nodeps', 'palisade-agent');
  assert.equal(verify.code, 0, `rpm -V: ${verify.stdout}${verify.stderr}`);
  for (const f of expected) assert.ok(existsSync(join(root, f)), `${f} installed`);
  assert.equal(statSync(join(root, 'opt/palisade/bin/palisade')).mode & 0o777, 0o755);
  assert.equal(
    readFileSync(join(root, 'opt/palisade/lib/palisade.mjs'), 'utf8'),
    readFileSync(join(bundle.dir, 'lib/palisade.mjs'), 'utf8'),
  );
  if (fallback)
    assert.equal(readFileSync(systemctlLog, 'utf8'), '--no-reload preset palisade-agent.service\n', '%post: preset on first install');

  // erase: the unit is disabled and stopped, the files and the data dir (identity) go
  mkdirSync(join(root, 'var/lib/palisade-agent'), { recursive: true });
  writeFileSync(join(root, 'var/lib/palisade-agent/agent.json'), '{}');
  const erase = rpmIn('-e', 'palisade-agent');
  assert.equal(erase.code, 0, erase.stderr);
  assert.doesNotMatch(erase.stderr, /scriptlet failed|error:/i);
  if (fallback)
    assert.deepEqual(readFileSync(systemctlLog, 'utf8').split('\n').filter(Boolean), [
      '--no-reload preset palisade-agent.service',
      '--no-reload disable --now palisade-agent.service',
      'daemon-reload',
    ]);
  for (const f of expected) assert.ok(!existsSync(join(root, f)), `${f} removed`);
  assert.ok(!existsSync(join(root, 'opt/palisade')), '/opt/palisade removed');
  assert.ok(!existsSync(join(root, 'var/lib/palisade-agent')), 'erase removes the data dir');
  assert.notEqual(rpmIn('-q', 'palisade-agent').code, 0, 'no package left in the database');
});
