import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sendRaw, serializeRequest } from '../apps/agent/src/modules/ips/raw-http-client.ts';
import { freePort, type ManagerProcess, startManagerProcess, waitFor } from '../e2e/support/real-processes.ts';
import { type AgentBundle, buildAgentBundle } from './build-agent-bundle.ts';
import { buildAgentDeb } from './build-agent-bundle-deb.ts';

/**
 * The agent bundle as an operator gets it: built by the build script, unpacked, installed with
 * its install.sh into a fresh prefix, activated against a real manager and run; the bundled IPS
 * (engine worker thread, shipped virtual patches, re2) blocks a real exploit. Then uninstalled.
 * The .deb installs into this machine with dpkg and is removed and purged without a trace.
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
