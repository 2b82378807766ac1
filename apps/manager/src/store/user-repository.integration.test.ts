import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { login } from '../auth/console-login.ts';
import { hashPassword, needsRehash, verifyPassword } from '../auth/password-hash.ts';
import { testLocations } from '../testing/test-stores.ts';
import { PRIMARY_TENANT, StoreProvider } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';
import { userDb } from './user-repository.ts';

// The user and session repositories on SQLite and PostgreSQL, below the HTTP layer.
for (const make of testLocations()) {
  const loc = make();
  describe(`console users store: ${loc.name}`, () => {
    let now = new Date('2026-05-01T00:00:00.000Z');
    let provider: StoreProvider;
    let store: TenantStore;
    const at = (ms: number) => {
      now = new Date(now.getTime() + ms);
    };

    before(async () => {
      provider = await StoreProvider.open(loc.location, () => now);
      store = (await provider.tenant(PRIMARY_TENANT))!;
    });
    after(async () => {
      await provider.close();
      await loc.cleanup();
    });

    test('passwords are stored as scrypt with their own salt and parameters', async () => {
      const u = await store.users.create({ username: 'Pia', password: 'pia password 123', role: 'operator' });
      const u2 = await store.users.create({ username: 'quinn', password: 'pia password 123', role: 'operator' });
      const a = (await store.users.credentials('PIA'))!.passwordHash;
      const b = (await store.users.credentials('quinn'))!.passwordHash;
      assert.match(a, /^scrypt\$32768\$8\$3\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
      assert.notEqual(a, b, 'same password, different salt, different hash');
      assert.equal(await verifyPassword('pia password 123', a), true);
      assert.equal(await verifyPassword('pia password 124', a), false);
      assert.equal(await verifyPassword('pia password 123', 'scrypt$3$8$1$bad'), false, 'a malformed hash never matches');
      assert.equal(u.username, 'pia');
      assert.equal(u2.role, 'operator');
      await assert.rejects(store.users.create({ username: 'PIA', password: 'x'.repeat(12), role: 'admin' }), { code: 'STORE_CONFLICT' });
    });

    test('a hash made with weaker parameters is replaced at the next login', async () => {
      const weak = await hashPassword('weak hash password', { N: 1024, r: 8, p: 1 });
      assert.equal(needsRehash(weak), true);
      const u = await store.users.create({ username: 'rae', password: 'placeholder password', role: 'auditor' });
      await userDb(store.db).updateTable('console_users').set({ password_hash: weak }).where('id', '=', u.id).execute();
      await login(store, { username: 'rae', password: 'weak hash password', address: '10.0.0.1' });
      const after = (await store.users.credentials('rae'))!.passwordHash;
      assert.notEqual(after, weak);
      assert.equal(needsRehash(after), false);
      assert.equal(await verifyPassword('weak hash password', after), true);
    });

    test('failures older than the 15-minute window start a new count', async () => {
      const key = 'pia\n203.0.113.9';
      for (let i = 0; i < 4; i++) assert.equal(await store.users.recordFailure(key, 5, 60_000), undefined);
      at(16 * 60_000);
      // Four old failures no longer count: four more do not lock, the fifth does.
      for (let i = 0; i < 4; i++) assert.equal(await store.users.recordFailure(key, 5, 60_000), undefined);
      const until = await store.users.recordFailure(key, 5, 60_000);
      assert.equal(until, new Date(now.getTime() + 60_000).toISOString());
      assert.equal(await store.users.lockedUntil(key), until);
      at(61_000);
      assert.equal(await store.users.lockedUntil(key), undefined);
    });

    test('logins prune sessions over for a day and failure counters that can no longer lock', async () => {
      const pia = (await store.users.credentials('pia'))!.user;
      const { session: old } = await store.sessions.create(pia.id, '10.0.0.2');
      await store.sessions.end(old.id);
      await store.users.recordFailure('ghost\n10.0.0.3', 5, 60_000);
      at(25 * 3600_000);
      const { session: fresh } = await login(store, { username: 'pia', password: 'pia password 123', address: '10.0.0.2' });
      assert.equal(await store.sessions.secretHash(old.id), undefined, 'ended more than a day ago: deleted');
      assert.ok(await store.sessions.secretHash(fresh.id));
      const rows = await userDb(store.db).selectFrom('console_login_failures').select('key').execute();
      assert.ok(!rows.some((r) => r.key.startsWith('ghost')));
      assert.deepEqual(
        (await store.sessions.listOf(pia.id)).map((s) => s.id),
        [fresh.id],
      );
    });
  });
}
