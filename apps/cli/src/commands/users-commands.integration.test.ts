import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningManager, startManager } from '@palisade/manager';
import { CliError } from './output.ts';
import { runCli } from './testing/run-cli.ts';
import { passwordFrom } from './users-commands.ts';

// `palisade users …` as real processes against a real manager; the passwords they set are then
// used to log in through the API.
const dir = mkdtempSync(join(tmpdir(), 'palisade-users-cli-'));
let manager: RunningManager;
let apiKey: string;

/** PALISADE_PASSWORD comes only from the test, never from the environment the tests run in. */
const cli = (args: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string } = {}) =>
  runCli(['--url', manager.url, '--api-key', apiKey, ...args], {
    env: { PALISADE_PASSWORD: undefined, ...opts.env },
    stdin: opts.stdin ?? '',
  });

const login = async (username: string, password: string) => {
  const res = await fetch(`${manager.url}/api/v1/sessions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ tenant: 'primary', username, password }),
  });
  return { status: res.status, body: (await res.json()) as { code?: string; role?: string; token?: string } };
};

before(async () => {
  manager = await startManager({ dataDir: dir, host: '127.0.0.1', port: 0, tls: false, logLevel: 'error' });
  apiKey = manager.createdAdminKey!;
});
after(async () => {
  await manager.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('the password comes from exactly one of stdin, the environment or generation — never a flag', async () => {
  assert.deepEqual(await passwordFrom({}, { PALISADE_PASSWORD: 'from the env ok' }), { password: 'from the env ok', generated: false });
  assert.deepEqual(await passwordFrom({ passwordStdin: true }, {}, async () => 'from stdin ok'), {
    password: 'from stdin ok',
    generated: false,
  });
  const g = await passwordFrom({ generatePassword: true }, {});
  assert.equal(g.generated, true);
  assert.ok(g.password.length >= 24);
  await assert.rejects(passwordFrom({}, {}), (e: unknown) => e instanceof CliError && e.code === 'CLI_BAD_OPTION');
  await assert.rejects(passwordFrom({ generatePassword: true }, { PALISADE_PASSWORD: 'x' }), (e: unknown) => e instanceof CliError);
});

test('users create, list, disable, enable and set-password, with --json; the passwords work for login', async () => {
  const a = await cli(['users', 'create', 'Ana', '--role', 'operator', '--json'], {
    env: { PALISADE_PASSWORD: 'ana has a long password' },
  });
  assert.equal(a.code, 0, a.stderr);
  const ana = JSON.parse(a.stdout);
  assert.deepEqual([ana.username, ana.role, ana.disabled, ana.password], ['ana', 'operator', false, undefined]);
  assert.equal((await login('ana', 'ana has a long password')).body.role, 'operator');

  const g = await cli(['users', 'create', 'gus', '--role', 'auditor', '--generate-password', '--json']);
  assert.equal(g.code, 0, g.stderr);
  const gus = JSON.parse(g.stdout);
  assert.equal((await login('gus', gus.password)).status, 201);

  const s = await cli(['users', 'create', 'sam', '--role', 'admin', '--password-stdin'], { stdin: 'sam reads it from stdin\n' });
  assert.equal(s.code, 0, s.stderr);
  assert.match(s.stdout, /^created user sam \(admin\) /);
  assert.equal((await login('sam', 'sam reads it from stdin')).status, 201);

  const list = await cli(['users', 'list', '--json']);
  assert.deepEqual(
    JSON.parse(list.stdout).users.map((u: { username: string }) => u.username),
    ['ana', 'gus', 'sam'],
  );
  const table = await cli(['users', 'list']);
  assert.match(table.stdout, /^ID\s+USERNAME\s+ROLE\s+DISABLED/);

  const d = await cli(['users', 'disable', 'ana', '--json']);
  assert.equal(JSON.parse(d.stdout).disabled, true);
  assert.equal((await login('ana', 'ana has a long password')).body.code, 'AUTH_USER_DISABLED');
  assert.equal(JSON.parse((await cli(['users', 'enable', 'ana', '--json'])).stdout).disabled, false);

  const p = await cli(['users', 'set-password', 'ana', '--password-stdin'], { stdin: 'ana got a new password' });
  assert.equal(p.code, 0, p.stderr);
  assert.equal((await login('ana', 'ana has a long password')).body.code, 'AUTH_LOGIN_FAILED');
  assert.equal((await login('ana', 'ana got a new password')).status, 201);
});

test('errors carry the manager code or a CLI code, on stderr, with a non-zero exit', async () => {
  const dup = await cli(['users', 'create', 'ana', '--role', 'operator'], { env: { PALISADE_PASSWORD: 'another long password' } });
  assert.notEqual(dup.code, 0);
  assert.match(dup.stderr, /STORE_CONFLICT/);
  const weak = await cli(['users', 'create', 'wes', '--role', 'operator'], { env: { PALISADE_PASSWORD: 'short' } });
  assert.match(weak.stderr, /AUTH_PASSWORD_WEAK/);
  const noPassword = await cli(['users', 'create', 'nop', '--role', 'operator']);
  assert.equal(noPassword.code, 2);
  assert.match(noPassword.stderr, /CLI_BAD_OPTION/);
  const badRole = await cli(['users', 'create', 'rob', '--role', 'root'], { env: { PALISADE_PASSWORD: 'another long password' } });
  assert.equal(badRole.code, 2);
  const missing = await cli(['users', 'disable', 'nobody']);
  assert.match(missing.stderr, /API_NOT_FOUND/);
});
