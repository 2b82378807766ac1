import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { testLocations } from '../testing/test-stores.ts';
import { ArtifactRepository, sha256Of } from './artifact-repository.ts';
import { PRIMARY_TENANT, StoreProvider } from './store-provider.ts';
import type { TenantStore } from './tenant-store.ts';

// The artifact store contract (content addressing, versions, refresh), on every backend.
for (const make of testLocations()) {
  const loc = make();
  describe(`artifact store: ${loc.name}`, () => {
    let now = new Date('2026-03-01T00:00:00.000Z');
    let provider: StoreProvider;
    let store: TenantStore;
    let repo: ArtifactRepository;

    before(async () => {
      provider = await StoreProvider.open(loc.location, () => now);
      store = (await provider.tenant(PRIMARY_TENANT))!;
      repo = new ArtifactRepository(store.db, () => now);
    });
    after(async () => {
      await provider.close();
      await loc.cleanup();
    });

    test('bytes round-trip exactly (binary, not text) and are found by their sha256', async () => {
      const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x0a, 0x0d, 0]);
      const { artifact, created, changed } = await repo.put({ kind: 'signature-set', name: 'bin', format: 'cvd', bytes, source: 'upload' });
      assert.equal(created, true);
      assert.equal(changed, true);
      assert.equal(artifact.sha256, sha256Of(bytes));
      assert.equal(artifact.size, bytes.length);
      assert.equal(artifact.version, 1);
      const back = await repo.bytesBySha(artifact.sha256);
      assert.ok(back);
      assert.deepEqual([...back.bytes], [...bytes]);
      assert.equal(back.info.name, 'bin');
      assert.equal(await repo.bytesBySha('0'.repeat(64)), undefined);
    });

    test('same bytes again only refresh; new bytes make a new version; kinds keep separate names', async () => {
      const v1 = Buffer.from('evil.example\n');
      await repo.put({ kind: 'webrep-feed', name: 'f', format: 'auto', bytes: v1, source: 'upload' });
      now = new Date('2026-03-01T06:00:00.000Z');
      const again = await repo.put({ kind: 'webrep-feed', name: 'f', format: 'auto', bytes: v1, source: 'url:http://127.0.0.1/f' });
      assert.equal(again.changed, false);
      assert.equal(again.artifact.version, 1);
      assert.equal(again.artifact.updatedAt, '2026-03-01T00:00:00.000Z');
      assert.equal(again.artifact.refreshedAt, '2026-03-01T06:00:00.000Z');
      const v2 = await repo.put({
        kind: 'webrep-feed',
        name: 'f',
        format: 'auto',
        bytes: Buffer.from('worse.example\n'),
        source: 'upload',
      });
      assert.equal(v2.changed, true);
      assert.equal(v2.artifact.version, 2);
      assert.equal(v2.artifact.sha256, sha256Of(Buffer.from('worse.example\n')));
      // the old content is no longer served
      assert.equal(await repo.bytesBySha(sha256Of(v1)), undefined);
      await repo.put({ kind: 'signature-set', name: 'f', format: 'ndb', bytes: Buffer.from('x:0:*:41414141\n'), source: 'upload' });
      assert.deepEqual(
        (await repo.list('webrep-feed')).map((a) => [a.kind, a.name]),
        [['webrep-feed', 'f']],
      );
      assert.equal((await repo.list()).length, 3);
    });

    test('a failed download is recorded and cleared by the next success; delete removes', async () => {
      await repo.recordError('webrep-feed', 'f', 'download failed: 503');
      assert.equal((await repo.get('webrep-feed', 'f'))?.lastError, 'download failed: 503');
      await repo.put({ kind: 'webrep-feed', name: 'f', format: 'auto', bytes: Buffer.from('worse.example\n'), source: 'upload' });
      assert.equal((await repo.get('webrep-feed', 'f'))?.lastError, null);
      assert.equal(await repo.delete('webrep-feed', 'f'), true);
      assert.equal(await repo.delete('webrep-feed', 'f'), false);
      assert.equal(await repo.get('webrep-feed', 'f'), undefined);
    });
  });
}
