import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { consoleBuildIsStale, ensureConsoleBuilt } from './console-build.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-console-build-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('the build is stale when missing or older than any source, fresh otherwise', async () => {
  const app = join(dir, 'apps', 'console');
  mkdirSync(join(app, 'src', 'pages'), { recursive: true });
  mkdirSync(join(dir, 'packages', 'api-client', 'src'), { recursive: true });
  writeFileSync(join(app, 'package.json'), '{}');
  writeFileSync(join(app, 'src', 'pages', 'a.tsx'), 'x');
  writeFileSync(join(dir, 'packages', 'api-client', 'src', 'c.ts'), 'x');
  assert.equal(consoleBuildIsStale(app), true);

  mkdirSync(join(app, 'dist'));
  writeFileSync(join(app, 'dist', 'index.html'), '<html>');
  const past = new Date(Date.now() - 60_000);
  for (const p of [
    join(app, 'package.json'),
    join(app, 'src', 'pages', 'a.tsx'),
    join(app, 'src', 'pages'),
    join(app, 'src'),
    join(dir, 'packages', 'api-client', 'src', 'c.ts'),
    join(dir, 'packages', 'api-client', 'src'),
  ])
    utimesSync(p, past, past);
  assert.equal(consoleBuildIsStale(app), false);
  assert.equal(await ensureConsoleBuilt(() => {}, app), 'fresh');

  const future = new Date(Date.now() + 60_000);
  utimesSync(join(dir, 'packages', 'api-client', 'src', 'c.ts'), future, future);
  assert.equal(consoleBuildIsStale(app), true, 'a newer API client source makes the build stale');
  utimesSync(join(dir, 'packages', 'api-client', 'src', 'c.ts'), past, past);
  utimesSync(join(app, 'src', 'pages', 'a.tsx'), future, future);
  assert.equal(consoleBuildIsStale(app), true, 'a newer page makes the build stale');
});

test('without a console app there is nothing to build', async () => {
  assert.equal(await ensureConsoleBuilt(() => {}, join(dir, 'nowhere')), 'unavailable');
});
