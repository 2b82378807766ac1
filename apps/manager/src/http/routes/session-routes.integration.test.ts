import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestManager, testManager } from '../../testing/test-manager.ts';
import { testLocations } from '../../testing/test-stores.ts';

/**
 * Console users and sessions through the real HTTP API, on SQLite and PostgreSQL: login, wrong
 * passwords, the lockout, expiry, disabled users, tenancy, roles, and the cookie with its CSRF
 * header. Every password check is a real scrypt hash.
 */
const PASSWORD = 'correct horse battery staple';

for (const make of testLocations()) {
  const loc = make();
  describe(`console sessions: ${loc.name}`, () => {
    let tm: TestManager;
    let acmeKey: string;

    const login = (body: Record<string, unknown>, opts: { address?: string; headers?: Record<string, string> } = {}) =>
      tm.app.inject({
        method: 'POST',
        url: '/api/v1/sessions',
        payload: body,
        ...(opts.headers ? { headers: opts.headers } : {}),
        ...(opts.address ? { remoteAddress: opts.address } : {}),
      });
    const as = async (token: string, method: string, url: string, body?: unknown) => {
      const res = await tm.app.inject({
        method: method as 'GET',
        url,
        headers: { authorization: `Bearer ${token}` },
        ...(body !== undefined ? { payload: body as object } : {}),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    };
    const tokenOf = async (username: string, password = PASSWORD, tenant = 'primary') => {
      const res = await login({ tenant, username, password });
      assert.equal(res.statusCode, 201, res.body);
      return JSON.parse(res.body).token as string;
    };
    const createUser = async (username: string, role: string, key?: string) => {
      const res = await tm.call('POST', '/api/v1/users', { body: { username, password: PASSWORD, role }, ...(key ? { key } : {}) });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body as { id: string; username: string };
    };

    before(async () => {
      tm = await testManager(loc);
      assert.equal((await tm.call('POST', '/api/v1/tenants', { body: { id: 'acme', name: 'Acme' } })).status, 201);
      const key = await tm.call('POST', '/api/v1/tenants/acme/api-keys', { body: { name: 'acme admin', role: 'admin' } });
      acmeKey = key.body.secret;
    });
    after(async () => tm?.close());

    test('admins create users; passwords are checked and never returned; other roles may not manage users', async () => {
      const alice = await createUser('Alice', 'admin');
      assert.equal(alice.username, 'alice', 'usernames are case-insensitive (stored lower-cased)');
      assert.ok(!JSON.stringify(alice).includes(PASSWORD) && !('passwordHash' in alice) && !('password_hash' in alice));
      const weak = await tm.call('POST', '/api/v1/users', { body: { username: 'bob', password: 'short', role: 'operator' } });
      assert.equal(weak.status, 400);
      assert.equal(weak.body.code, 'AUTH_PASSWORD_WEAK');
      const dup = await tm.call('POST', '/api/v1/users', { body: { username: 'ALICE', password: PASSWORD, role: 'operator' } });
      assert.equal(dup.status, 409);
      await createUser('olga', 'operator');
      await createUser('audrey', 'auditor');
      const list = await tm.call('GET', '/api/v1/users');
      assert.deepEqual(
        list.body.users.map((u: { username: string; role: string; disabled: boolean }) => [u.username, u.role, u.disabled]),
        [
          ['alice', 'admin', false],
          ['audrey', 'auditor', false],
          ['olga', 'operator', false],
        ],
      );
      assert.ok(!JSON.stringify(list.body).includes('scrypt'));
      const operatorKey = (await tm.call('POST', '/api/v1/api-keys', { body: { name: 'op', role: 'operator' } })).body.secret;
      assert.equal((await tm.call('GET', '/api/v1/users', { key: operatorKey })).status, 403);
      const olga = await tokenOf('olga');
      assert.equal((await as(olga, 'GET', '/api/v1/users')).status, 403);
    });

    test('a correct login gives a session token that works like an API key of the same role and tenant', async () => {
      const res = await login({ tenant: 'primary', username: 'ALICE', password: PASSWORD });
      assert.equal(res.statusCode, 201, res.body);
      const body = JSON.parse(res.body);
      assert.match(body.token, /^pss_primary\.[0-9a-f-]{36}\.[A-Za-z0-9_-]{43}$/);
      assert.equal(res.headers['set-cookie'], undefined, 'no cookie unless asked for');
      assert.equal(body.role, 'admin');
      assert.ok(Date.parse(body.expiresAt) - Date.now() > 11 * 3600_000);
      const me = await as(body.token, 'GET', '/api/v1/sessions/current');
      assert.deepEqual([me.body.kind, me.body.username, me.body.role, me.body.tenant], ['session', 'alice', 'admin', 'primary']);
      const policy = await as(body.token, 'POST', '/api/v1/policies', { name: 'Made by alice' });
      assert.equal(policy.status, 201);
      const audit = await tm.call('GET', `/api/v1/audit?target=policy:${policy.body.id}`);
      assert.equal(audit.body.entries[0].actor, 'user:alice');
      const users = await tm.call('GET', '/api/v1/users/alice');
      assert.ok(users.body.lastLoginAt, 'last login recorded');
      // The token's secret is stored hashed only.
      const store = (await tm.stores.tenant('primary'))!;
      const stored = await store.sessions.secretHash(body.sessionId);
      assert.ok(stored && !stored.hash.includes(body.token.split('.')[2]));
      // A tampered secret is refused.
      assert.equal((await as(`${body.token.slice(0, -2)}xx`, 'GET', '/api/v1/computers')).body.code, 'AUTH_INVALID');
      // An API key is not a session.
      assert.equal((await tm.call('GET', '/api/v1/sessions/current')).body.kind, 'api-key');
      assert.equal((await tm.call('DELETE', '/api/v1/sessions/current')).body.code, 'AUTH_NOT_A_SESSION');
    });

    test('a wrong password, an unknown user and an unknown tenant get the same answer', async () => {
      for (const body of [
        { tenant: 'primary', username: 'alice', password: 'wrong password!!' },
        { tenant: 'primary', username: 'nobody', password: PASSWORD },
        { tenant: 'nosuch', username: 'alice', password: PASSWORD },
      ]) {
        const res = await login(body, { address: '10.9.9.9' });
        assert.equal(res.statusCode, 401);
        assert.equal(JSON.parse(res.body).code, 'AUTH_LOGIN_FAILED');
      }
    });

    test('5 failures for one username from one address lock that pair out for a minute', async () => {
      const attacker = '192.0.2.66';
      const codes: string[] = [];
      for (let i = 0; i < 5; i++)
        codes.push(
          JSON.parse((await login({ tenant: 'primary', username: 'olga', password: `guess-number-${i}` }, { address: attacker })).body)
            .code,
        );
      assert.deepEqual(codes, ['AUTH_LOGIN_FAILED', 'AUTH_LOGIN_FAILED', 'AUTH_LOGIN_FAILED', 'AUTH_LOGIN_FAILED', 'AUTH_LOGIN_LOCKED']);
      // Locked: even the right password is refused from there, with a Retry-After.
      const locked = await login({ tenant: 'primary', username: 'olga', password: PASSWORD }, { address: attacker });
      assert.equal(locked.statusCode, 429);
      assert.equal(JSON.parse(locked.body).code, 'AUTH_LOGIN_LOCKED');
      assert.ok(Number(locked.headers['retry-after']) >= 1 && Number(locked.headers['retry-after']) <= 60);
      // The real user elsewhere is not locked out, and other usernames from the attacker are not either.
      assert.equal((await login({ tenant: 'primary', username: 'olga', password: PASSWORD }, { address: '198.51.100.7' })).statusCode, 201);
      assert.equal((await login({ tenant: 'primary', username: 'audrey', password: PASSWORD }, { address: attacker })).statusCode, 201);
      // A minute later the pair may try again.
      tm.clock.now = new Date(tm.clock.now.getTime() + 61_000);
      assert.equal((await login({ tenant: 'primary', username: 'olga', password: PASSWORD }, { address: attacker })).statusCode, 201);
      const audit = await tm.call('GET', '/api/v1/audit?action=session.locked-out');
      assert.ok(audit.body.entries.some((e: { target: string }) => e.target === `address:${attacker}`));
    });

    test('sessions expire when idle and at their absolute lifetime', async () => {
      const idle = await tokenOf('audrey');
      tm.clock.now = new Date(tm.clock.now.getTime() + 31 * 60_000);
      const r = await as(idle, 'GET', '/api/v1/computers');
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'AUTH_SESSION_EXPIRED');
      // Used every 20 minutes a session lives on, but not past 12 hours.
      const busy = await tokenOf('audrey');
      const start = tm.clock.now.getTime();
      for (let t = 20; t < 12 * 60; t += 20) {
        tm.clock.now = new Date(start + t * 60_000);
        assert.equal((await as(busy, 'GET', '/api/v1/computers')).status, 200, `still valid after ${t} min`);
      }
      tm.clock.now = new Date(start + 12 * 3600_000 + 1000);
      const old = await as(busy, 'GET', '/api/v1/computers');
      assert.equal(old.body.code, 'AUTH_SESSION_EXPIRED');
    });

    test('a disabled user cannot log in and its open sessions end; a new password ends sessions too', async () => {
      const token = await tokenOf('olga');
      const disabled = await tm.call('PATCH', '/api/v1/users/olga', { body: { disabled: true } });
      assert.equal(disabled.body.disabled, true);
      assert.equal((await as(token, 'GET', '/api/v1/computers')).body.code, 'AUTH_SESSION_ENDED');
      const refused = await login({ tenant: 'primary', username: 'olga', password: PASSWORD });
      assert.equal(refused.statusCode, 401);
      assert.equal(JSON.parse(refused.body).code, 'AUTH_USER_DISABLED');
      await tm.call('PATCH', '/api/v1/users/olga', { body: { disabled: false } });
      const again = await tokenOf('olga');
      const newPassword = 'another long passphrase';
      assert.equal((await tm.call('POST', '/api/v1/users/olga/password', { body: { password: newPassword } })).status, 200);
      assert.equal((await as(again, 'GET', '/api/v1/computers')).body.code, 'AUTH_SESSION_ENDED');
      assert.equal(JSON.parse((await login({ tenant: 'primary', username: 'olga', password: PASSWORD })).body).code, 'AUTH_LOGIN_FAILED');
      await tokenOf('olga', newPassword);
      // An admin cannot lock itself out through its own session.
      const alice = await tokenOf('alice');
      assert.equal((await as(alice, 'PATCH', '/api/v1/users/alice', { disabled: true })).body.code, 'AUTH_SELF_LOCKOUT');
    });

    test('roles: an auditor session reads but cannot write, an operator cannot manage users', async () => {
      const audrey = await tokenOf('audrey');
      assert.equal((await as(audrey, 'GET', '/api/v1/policies')).status, 200);
      const write = await as(audrey, 'POST', '/api/v1/policies', { name: 'auditor policy' });
      assert.equal(write.status, 403);
      assert.equal(write.body.code, 'AUTH_FORBIDDEN');
      const olga = await tokenOf('olga', 'another long passphrase');
      assert.equal((await as(olga, 'POST', '/api/v1/policies', { name: 'operator policy' })).status, 201);
      assert.equal((await as(olga, 'POST', '/api/v1/users', { username: 'x', password: PASSWORD, role: 'admin' })).status, 403);
    });

    test("tenancy: a session of tenant acme sees only acme's data, and a token cannot be moved to another tenant", async () => {
      await createUser('alice', 'admin', acmeKey);
      const primaryPolicy = (await tm.call('POST', '/api/v1/policies', { body: { name: 'Primary only' } })).body;
      const acme = await tokenOf('alice', PASSWORD, 'acme');
      assert.match(acme, /^pss_acme\./);
      assert.equal((await as(acme, 'GET', '/api/v1/sessions/current')).body.tenant, 'acme');
      const policies = await as(acme, 'GET', '/api/v1/policies');
      assert.ok(!policies.body.policies.some((p: { id: string }) => p.id === primaryPolicy.id));
      assert.equal((await as(acme, 'GET', `/api/v1/policies/${primaryPolicy.id}`)).status, 404);
      const acmeUsers = await as(acme, 'GET', '/api/v1/users');
      assert.deepEqual(
        acmeUsers.body.users.map((u: { username: string }) => u.username),
        ['alice'],
      );
      // Same session id and secret, other tenant prefix: looked up in primary's database, not found.
      assert.equal((await as(acme.replace('pss_acme.', 'pss_primary.'), 'GET', '/api/v1/policies')).body.code, 'AUTH_INVALID');
      // A primary user's password does not open acme.
      assert.equal(JSON.parse((await login({ tenant: 'acme', username: 'audrey', password: PASSWORD })).body).code, 'AUTH_LOGIN_FAILED');
    });

    test('the console cookie: HttpOnly, Secure, SameSite=Strict, state changes need the CSRF header, logout clears it', async () => {
      const noHeader = await login({ tenant: 'primary', username: 'alice', password: PASSWORD, cookie: true });
      assert.equal(noHeader.statusCode, 403);
      assert.equal(JSON.parse(noHeader.body).code, 'AUTH_CSRF');
      const res = await login(
        { tenant: 'primary', username: 'alice', password: PASSWORD, cookie: true },
        { headers: { 'x-palisade-csrf': '1' } },
      );
      assert.equal(res.statusCode, 201);
      assert.equal(JSON.parse(res.body).token, undefined, 'the token is only in the HttpOnly cookie');
      const setCookie = String(res.headers['set-cookie']);
      assert.match(setCookie, /^__Host-palisade_session=pss_primary\.[^;]+; Path=\/; Max-Age=\d+; HttpOnly; Secure; SameSite=Strict$/);
      const cookie = setCookie.split(';')[0]!;
      const withCookie = (method: string, url: string, headers: Record<string, string> = {}, payload?: object) =>
        tm.app.inject({
          method: method as 'GET',
          url,
          headers: { cookie: `other=1; ${cookie}`, ...headers },
          ...(payload ? { payload } : {}),
        });
      assert.equal((await withCookie('GET', '/api/v1/computers')).statusCode, 200);
      const csrf = await withCookie('POST', '/api/v1/policies', {}, { name: 'via cookie' });
      assert.equal(csrf.statusCode, 403);
      assert.equal(JSON.parse(csrf.body).code, 'AUTH_CSRF');
      assert.equal((await withCookie('POST', '/api/v1/policies', { 'x-palisade-csrf': '1' }, { name: 'via cookie' })).statusCode, 201);
      const out = await withCookie('DELETE', '/api/v1/sessions/current', { 'x-palisade-csrf': '1' });
      assert.equal(out.statusCode, 204);
      assert.match(String(out.headers['set-cookie']), /^__Host-palisade_session=; Path=\/; Max-Age=0;/);
      assert.equal(JSON.parse((await withCookie('GET', '/api/v1/computers')).body).code, 'AUTH_SESSION_ENDED');
      const malformed = await tm.app.inject({
        method: 'GET',
        url: '/api/v1/computers',
        headers: { cookie: '__Host-palisade_session=%E0%A4%A' },
      });
      assert.equal(JSON.parse(malformed.body).code, 'AUTH_MISSING');
    });

    test('logout with a bearer token ends that session only', async () => {
      const a = await tokenOf('audrey');
      const b = await tokenOf('audrey');
      assert.equal((await as(a, 'DELETE', '/api/v1/sessions/current')).status, 204);
      assert.equal((await as(a, 'GET', '/api/v1/computers')).body.code, 'AUTH_SESSION_ENDED');
      assert.equal((await as(b, 'GET', '/api/v1/computers')).status, 200);
    });
  });
}
