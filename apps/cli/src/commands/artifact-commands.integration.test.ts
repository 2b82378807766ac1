import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type RunningManager, startManager } from '@palisade/manager';
import { runCli } from './testing/run-cli.ts';

// `palisade signatures …` and `palisade webrep feeds …` as real processes against a real manager.
const dir = mkdtempSync(join(tmpdir(), 'palisade-artifact-cli-'));
let manager: RunningManager;
let apiKey: string;

const cli = (args: string[]) => runCli(['--url', manager.url, '--api-key', apiKey, ...args]);

before(async () => {
  manager = await startManager({ dataDir: join(dir, 'manager'), host: '127.0.0.1', port: 0, tls: false, logLevel: 'error' });
  apiKey = manager.createdAdminKey!;
});
after(async () => {
  await manager.stop();
  rmSync(dir, { recursive: true, force: true });
});

test('signatures upload/list/delete with --json; a bad file prints file:line diagnostics and stores nothing', async () => {
  writeFileSync(join(dir, 'custom.ndb'), 'Cli.Test:0:*:414243\n');
  writeFileSync(join(dir, 'broken.ndb'), 'Cli.Test:0:*:414243\nCli.Bad:0:*:41ZZ\n');
  const up = await cli(['signatures', 'upload', join(dir, 'custom.ndb'), '--json']);
  assert.equal(up.code, 0, up.stderr);
  assert.equal(JSON.parse(up.stdout).artifact.name, 'custom');
  const bad = await cli(['signatures', 'upload', join(dir, 'broken.ndb')]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /broken\.ndb:2(:\d+)?: error SIG_/);
  assert.match(bad.stderr, /error ARTIFACT_INVALID:/);
  const badJson = await cli(['signatures', 'upload', join(dir, 'broken.ndb'), '--json']);
  assert.equal(badJson.code, 1);
  assert.equal(JSON.parse(badJson.stdout).diagnostics[0].line, 2);
  const list = JSON.parse((await cli(['signatures', 'list', '--json'])).stdout);
  assert.deepEqual(
    list.artifacts.map((a: { name: string }) => a.name),
    ['custom'],
  );
  assert.equal((await cli(['artifacts', 'signature-sets', 'delete', 'custom', '--json'])).code, 0);
  assert.deepEqual(JSON.parse((await cli(['signatures', 'list', '--json'])).stdout).artifacts, []);
});

test('webrep feeds import-folder --local is all or nothing', async () => {
  const feeds = join(dir, 'feeds');
  mkdirSync(feeds);
  writeFileSync(join(feeds, 'one.txt'), 'evil.example\n');
  writeFileSync(join(feeds, 'two.txt'), '{"not": "a feed"');
  const bad = await cli(['webrep', 'feeds', 'import-folder', feeds, '--local', '--json']);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.equal(JSON.parse(bad.stdout).ok, false);
  assert.deepEqual(JSON.parse((await cli(['webrep', 'feeds', 'list', '--json'])).stdout).artifacts, [], 'nothing was stored');
  writeFileSync(join(feeds, 'two.txt'), 'worse.example\n');
  const ok = await cli(['webrep', 'feeds', 'import-folder', feeds, '--local', '--json']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(
    JSON.parse(ok.stdout).imported.map((i: { artifact: { name: string } }) => i.artifact.name),
    ['one', 'two'],
  );
  // the offline checker of the webrep command is still there next to `feeds`
  assert.equal((await cli(['webrep', '--help'])).stdout.includes('check'), true);
});
