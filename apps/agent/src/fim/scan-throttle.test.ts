import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadIntegrityRules } from '@palisade/integrity';
import { runFimScan } from './fim-scan.ts';
import { ScanThrottle } from './scan-throttle.ts';

test('the throttle asks each piece of work to wait until the work before it fits the rate', () => {
  let now = 1000;
  const t = new ScanThrottle({ filesPerSecond: 100, bytesPerSecond: 1_000_000 }, () => now);
  assert.equal(t.beforeFiles(1), 0, 'the first entry starts at once');
  assert.equal(t.beforeFiles(1), 10, 'the second one 10 ms after the start');
  now += 50;
  assert.equal(t.beforeFiles(10), 0, 'behind the rate: no wait');
  assert.equal(t.beforeFiles(1), 70, '12 entries done: the next is due at 120 ms');
  assert.equal(t.beforeBytes(500_000), 0);
  assert.equal(t.beforeBytes(500_000), 450, '500 kB are due at 500 ms, 50 ms have passed');
  assert.equal(new ScanThrottle({}).active, false);
  assert.equal(new ScanThrottle({}).beforeBytes(1e9), 0, 'no limit, no wait');
});

const dir = mkdtempSync(join(tmpdir(), 'palisade-fim-throttle-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a scan with limits takes at least as long as its rates allow, and finds the same', async () => {
  mkdirSync(join(dir, 'many'));
  for (let i = 0; i < 200; i++) writeFileSync(join(dir, 'many', `f${i}`), `${i}\n`);
  mkdirSync(join(dir, 'big'));
  for (let i = 0; i < 4; i++) writeFileSync(join(dir, 'big', `b${i}`), Buffer.alloc(8 << 20, i));
  const loaded = loadIntegrityRules(`version: 1\nrules:\n  - id: t\n    paths: [/many, /big]\n`);
  assert.ok(loaded.ok);
  const free = await runFimScan(loaded.value, { root: dir });

  // 205 entries at 500/s: at least ~0.4 s for the walk.
  let t0 = performance.now();
  const walked = await runFimScan(loaded.value, { root: dir, limits: { filesPerSecond: 500 } });
  const walkMs = performance.now() - t0;
  assert.ok(walkMs >= 380, `walk took ${walkMs} ms`);

  // 32 MiB (four 8 MiB batches) at 32 MiB/s: the last batch may start after 24 MiB, i.e. 0.75 s.
  t0 = performance.now();
  const hashed = await runFimScan(loaded.value, { root: dir, limits: { bytesPerSecond: 32 << 20 } });
  const hashMs = performance.now() - t0;
  assert.ok(hashMs >= 700, `hashing took ${hashMs} ms`);

  const digest = (r: typeof free) => r.entities.map((e) => `${e.key} ${e.attrs.sha256 ?? ''}`).join('\n');
  assert.equal(digest(walked), digest(free));
  assert.equal(digest(hashed), digest(free));
});
