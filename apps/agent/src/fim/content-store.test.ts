import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ContentStore } from './content-store.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-content-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// Random hex compresses to about half: 40,000 characters are ~20 KB stored.
const noisy = () => randomBytes(20_000).toString('hex');

test('copies round-trip compressed; the total is bounded and a refused copy drops the stale one', () => {
  const file = join(dir, 'a.sqlite');
  const s = new ContentStore(file, 65_536);
  assert.equal(s.put('/etc/a', { sha256: 'a1', redactionKey: 'k', text: 'x = 1\n'.repeat(2000) }), true);
  assert.ok(s.stats().bytes < 1000, `repetitive text compresses (${s.stats().bytes} bytes)`);
  assert.deepEqual(s.get('/etc/a'), { sha256: 'a1', redactionKey: 'k', text: 'x = 1\n'.repeat(2000) });
  assert.equal(s.put('/etc/b', { sha256: 'b1', redactionKey: 'k', text: noisy() }), true);
  assert.equal(s.put('/etc/c', { sha256: 'c1', redactionKey: 'k', text: noisy() }), true);
  const full = s.stats();
  assert.ok(full.bytes <= 65_536 && full.bytes > 40_000, JSON.stringify(full));
  // /etc/b grows past what is left: refused, and its old copy is gone (no diff against a stale copy).
  assert.equal(s.put('/etc/b', { sha256: 'b2', redactionKey: 'k', text: noisy() + noisy() + noisy() }), false);
  assert.equal(s.get('/etc/b'), undefined);
  assert.equal(s.stats().refused, 1);
  assert.ok(s.stats().bytes < full.bytes);
  // Rename moves the copy; delete frees its bytes; the total survives a reopen.
  s.rename('/etc/c', '/etc/c2');
  assert.equal(s.get('/etc/c'), undefined);
  assert.equal(s.peek('/etc/c2')?.sha256, 'c1');
  const before = s.stats().bytes;
  s.close();
  const again = new ContentStore(file, 65_536);
  assert.equal(again.stats().bytes, before);
  assert.deepEqual(again.paths(), ['/etc/a', '/etc/c2']);
  again.delete('/etc/c2');
  assert.ok(again.stats().bytes < 1000);
  again.close();
});
