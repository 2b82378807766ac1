import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, test } from 'node:test';
import { type AgentBundle, buildAgentBundle } from '../scripts/build-agent-bundle.ts';
import { freePort, type ManagerProcess, runCli, startManagerProcess, waitFor } from './support/real-processes.ts';

/**
 * The generated deployment script against a real manager (HTTPS with its own CA) serving a real
 * agent bundle: it installs and activates an agent in a fresh prefix, and a wrong token, an
 * unreachable manager and a checksum mismatch each end with one clear line and their exit code.
 */
const dir = mkdtempSync(join(tmpdir(), 'palisade-deploy-script-'));
let bundle: AgentBundle;
let manager: ManagerProcess;
let policyId: string;
let script: string;
let result: { token: { id: string; policyId: string | null; expiresAt: string }; bundle: { sha256: string; url: string; file: string } };

function runScript(name: string, env: Record<string, string>) {
  const prefix = join(dir, name, 'prefix');
  const dataDir = join(dir, name, 'data');
  const resultFile = join(dir, name, 'result');
  mkdirSync(join(dir, name), { recursive: true });
  const r = spawnSync('sh', [join(dir, 'palisade-deploy.sh')], {
    env: {
      PATH: process.env.PATH,
      PALISADE_PREFIX: prefix,
      PALISADE_DATA_DIR: dataDir,
      PALISADE_NO_SYSTEMD: '1',
      PALISADE_RESULT_FILE: resultFile,
      PALISADE_ATTEMPTS: '2',
      PALISADE_BACKOFF_SECONDS: '1',
      ...env,
    },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return {
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    prefix,
    dataDir,
    result: existsSync(resultFile) ? readFileSync(resultFile, 'utf8') : '',
  };
}

before(async () => {
  bundle = await buildAgentBundle({ outDir: join(dir, 'bundles') });
  // the manager process inherits this environment: it serves the bundle just built
  process.env.PALISADE_AGENT_BUNDLE_DIR = join(dir, 'bundles');
  manager = await startManagerProcess({ dataDir: join(dir, 'manager'), port: await freePort() });
  policyId = (await manager.client.createPolicy({ name: 'deploy-e2e', settings: { heartbeatSeconds: 2 } })).id;
  const cli = await runCli(
    ['deploy-script', '--platform', 'linux', '--policy', 'deploy-e2e', '--token-ttl', '1h', '--tag', 'role=web', '--json'],
    {
      PALISADE_URL: manager.url,
      PALISADE_API_KEY: manager.adminKey,
      PALISADE_CA: manager.caFile,
    },
  );
  assert.equal(cli.code, 0, cli.stderr);
  const parsed = JSON.parse(cli.stdout) as typeof result & { script: string };
  script = parsed.script;
  result = parsed;
  writeFileSync(join(dir, 'palisade-deploy.sh'), script, { mode: 0o700 });
});

after(async () => {
  await manager?.proc.stop();
  delete process.env.PALISADE_AGENT_BUNDLE_DIR;
  rmSync(dir, { recursive: true, force: true });
});

test('the script pins the manager CA, the bundle checksum and a token scoped to the policy for 1 h', () => {
  assert.ok(script.startsWith('#!/bin/sh\n'));
  assert.ok(script.includes(readFileSync(manager.caFile, 'utf8').trim()), 'the CA the CLI uses is in the script');
  assert.ok(script.includes(bundle.sha256));
  assert.equal(result.bundle.sha256, bundle.sha256);
  assert.equal(result.bundle.url, `${manager.url}/deploy/agent-bundles/${basename(bundle.tarball)}`);
  assert.equal(result.token.policyId, policyId);
  const ttl = (Date.parse(result.token.expiresAt) - Date.now()) / 1000;
  assert.ok(ttl > 3500 && ttl <= 3600, `token lives ${ttl} s`);
  // the shell accepts it
  assert.equal(spawnSync('sh', ['-n', join(dir, 'palisade-deploy.sh')]).status, 0);
});

test('in a fresh prefix the script downloads, verifies, installs and activates an agent that then runs', async () => {
  const r = runScript('ok', {});
  assert.equal(r.code, 0, `${r.stderr}\n${r.stdout}`);
  const agentId = /OK: agent (\S+) installed/.exec(r.stdout)?.[1];
  assert.ok(agentId, r.stdout);
  assert.match(r.result, /^palisade-deploy: OK: /);
  assert.match(r.stderr, /checksum verified/);
  // retried: the client's pooled connection may have outlived the server's keep-alive timeout
  const computer = await waitFor('the activated computer at the manager', () => manager.client.getComputer(agentId));
  assert.equal(computer.policyId, policyId);
  assert.equal(computer.tags.role, 'web', 'the --tag given to deploy-script reaches the agent');
  // the installed agent runs from the prefix and comes online
  const child = spawn(join(r.prefix, 'bin', 'palisade'), ['agent', 'start', '--data-dir', r.dataDir, '--inventory-interval', '0'], {
    stdio: 'ignore',
    cwd: '/',
  });
  const exited = new Promise((res) => child.on('exit', res));
  try {
    await waitFor('deployed agent online', async () => (await manager.client.getComputer(agentId)).status === 'online', 60_000, 250);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
  // running it again keeps the identity and changes nothing at the manager
  const again = runScript('ok', {});
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /already activated/);
  assert.match(again.stdout, new RegExp(`OK: agent ${agentId.replace(/\./g, '\\.')} installed`));
});

test('a wrong token: refused at once (no retries), exit 6, the manager’s reason in one line', () => {
  const r = runScript('wrong-token', { PALISADE_ACTIVATION_TOKEN: 'pat_primary.nosuchtoken.0123456789abcdef' });
  assert.equal(r.code, 6, r.stderr);
  assert.match(
    r.stderr,
    /palisade-deploy: FAILED \(activation\): the manager at https:\/\/127\.0\.0\.1:\d+ refused the activation: .*TOKEN_INVALID/,
  );
  assert.doesNotMatch(r.stderr, /retrying/);
  assert.match(r.result, /^palisade-deploy: FAILED \(activation\)/);
  assert.ok(!existsSync(join(r.dataDir, 'agent.json')));
});

test('an unreachable manager: the download is retried with backoff, then exit 3 with the address and the reason', async () => {
  const closed = `https://127.0.0.1:${await freePort()}`;
  const r = runScript('unreachable', { PALISADE_MANAGER_URL: closed });
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /download attempt 1\/2 failed .*; retrying in 1 s/);
  assert.match(
    r.stderr,
    new RegExp(
      `FAILED \\(download\\): cannot download the agent from ${closed}/deploy/agent-bundles/\\S+ after 2 attempts: .*(refused|connect)`,
      'i',
    ),
  );
  assert.ok(!existsSync(r.prefix), 'nothing installed');
});

test('a manager that goes away after the download: activation is retried with backoff, then exit 7', async () => {
  const closed = `https://127.0.0.1:${await freePort()}`;
  // the bundle comes from a relay (a local file here), the manager itself does not answer
  const r = runScript('activation-unreachable', { PALISADE_MANAGER_URL: closed, PALISADE_BUNDLE_URL: `file://${bundle.tarball}` });
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stderr, /activation attempt 1\/2 failed .*; retrying in 1 s/);
  assert.match(r.stderr, new RegExp(`FAILED \\(activation\\): could not activate with ${closed} after 2 attempts: error AGENT_`));
});

test('a checksum mismatch: exit 4 naming both sums, nothing installed', () => {
  const tampered = join(dir, 'tampered.tar.gz');
  copyFileSync(bundle.tarball, tampered);
  appendFileSync(tampered, 'x');
  const r = runScript('checksum', { PALISADE_BUNDLE_URL: `file://${tampered}` });
  assert.equal(r.code, 4, r.stderr);
  assert.match(
    r.stderr,
    new RegExp(`FAILED \\(checksum\\): SHA-256 mismatch for file://${tampered}: expected ${bundle.sha256}, got [0-9a-f]{64}`),
  );
  assert.ok(!existsSync(r.prefix), 'nothing installed');
});

test('the manager serves the bundle and its .sha256 without authentication; unknown files are 404', async () => {
  const res = spawnSync('curl', ['-fsS', '--cacert', manager.caFile, `${result.bundle.url}.sha256`], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.equal(res.stdout, readFileSync(bundle.sha256File, 'utf8'));
  const missing = spawnSync(
    'curl',
    ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--cacert', manager.caFile, `${manager.url}/deploy/agent-bundles/..%2Fadmin-api-key`],
    {
      encoding: 'utf8',
    },
  );
  assert.equal(missing.stdout, '404');
});
