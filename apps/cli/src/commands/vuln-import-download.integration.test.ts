import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { strToU8, zipSync } from 'fflate';
import { runCli } from '../../../../e2e/support/real-processes.ts';

// `vuln import --download` against a local server speaking plain HTTP, the way OSV's bucket serves
// per-ecosystem all.zip archives: downloaded, imported with the URL as the source, incremental.
const shared = process.env.PALISADE_SHARED ?? resolve(fileURLToPath(new URL('../../../..', import.meta.url)), '../shared');
const ids = ['GHSA-jfh8-c2jp-5v3q', 'GHSA-j77q-2qqg-6989'];
const zip = zipSync(
  Object.fromEntries(
    ids.map((id) => [`${id}.json`, strToU8(readFileSync(join(shared, 'osv-sample/github-advisory-database', `${id}.json`), 'utf8'))]),
  ),
);
const dir = mkdtempSync(join(tmpdir(), 'palisade-vuln-url-'));
let server: Server;
let base = '';

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/Maven/all.zip') res.writeHead(200, { 'Content-Type': 'application/zip' }).end(Buffer.from(zip));
    else res.writeHead(404).end('not found');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

test('vuln import --download downloads an all.zip and imports it incrementally, recorded under its URL', async () => {
  const url = `${base}/Maven/all.zip`;
  const first = await runCli(['vuln', 'import', '--download', url, '--data-dir', dir, '--json']);
  assert.equal(first.code, 0, first.stderr);
  const a = JSON.parse(first.stdout);
  assert.deepEqual([a.files, a.added, a.updated], [1, 2, 0]);
  assert.equal(a.imports[0].source, url);
  const again = JSON.parse((await runCli(['vuln', 'import', '--download', url, '--data-dir', dir, '--json'])).stdout);
  assert.deepEqual([again.added, again.unchanged], [0, 2], 'the second import changes nothing');
});

test('a failed download imports nothing and says which URL and why', async () => {
  const res = await runCli([
    'vuln',
    'import',
    '--download',
    `${base}/Maven/all.zip`,
    `${base}/PyPI/all.zip`,
    '--data-dir',
    join(dir, 'other'),
  ]);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /PyPI\/all\.zip: HTTP 404/);
  const none = await runCli(['vuln', 'import', '--data-dir', dir]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /give paths to import, or --download URL/);
});
