import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, test } from 'node:test';
import { ReputationStore } from '@palisade/web-reputation';
import { zipSync } from 'fflate';
import { loadFeedFiles } from './feed-file-loader.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-feeds-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('plain, gzip and zip feed files load; unreadable ones are reported without stopping the others', () => {
  writeFileSync(join(dir, 'plain.txt'), 'a.example\n');
  writeFileSync(join(dir, 'hosts.gz'), gzipSync('0.0.0.0 b.example\n'));
  writeFileSync(
    join(dir, 'urlhaus.zip'),
    zipSync({ 'csv.txt': new TextEncoder().encode('"1","2026-01-01","http://c.example/x","online","","malware_download","","",""\n') }),
  );
  const store = new ReputationStore();
  const res = loadFeedFiles(store, [join(dir, 'plain.txt'), join(dir, 'hosts.gz'), join(dir, 'missing.txt'), join(dir, 'urlhaus.zip')]);
  assert.deepEqual(
    res.map((r) => [r.name, r.applied, r.entries]),
    [
      ['plain.txt', true, 1],
      ['hosts', true, 1],
      ['missing.txt', false, 0],
      ['urlhaus', true, 1],
    ],
  );
  assert.equal(res[2]!.diagnostics[0]!.code, 'WEBREP_FEED_UNREADABLE');
  const p = { level: 'low' as const, blockUntested: false };
  assert.equal(store.evaluate('http://a.example/', p).action, 'block');
  assert.equal(store.evaluate('http://b.example/', p).feed, 'hosts');
  assert.equal(store.evaluate('http://c.example/x', p).category, 'malware');
});

test('reloading a feed file that became garbage keeps the previous version', () => {
  const f = join(dir, 'list.txt');
  writeFileSync(f, 'keep.example\n');
  const store = new ReputationStore();
  loadFeedFiles(store, [f]);
  writeFileSync(f, '<html>502 Bad Gateway</html>\n');
  const [r] = loadFeedFiles(store, [f]);
  assert.equal(r!.applied, false);
  assert.equal(store.evaluate('keep.example', { level: 'low', blockUntested: false }).action, 'block');
});
