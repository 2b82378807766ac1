import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { serveConsole } from './console-static.ts';
import { installErrorHandler } from './error-handler.ts';

const dir = mkdtempSync(join(tmpdir(), 'palisade-console-static-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function appFor(root: string) {
  const app = Fastify();
  installErrorHandler(app);
  await app.register(swagger, { openapi: { openapi: '3.0.3', info: { title: 't', version: '0' } } });
  app.get('/api/v1/things', async () => ({ things: [] }));
  await serveConsole(app, root);
  await app.ready();
  return app;
}

test('serves the build, falls back to index.html for app paths, keeps API 404s as JSON', async () => {
  const root = join(dir, 'dist');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>console</title>');
  writeFileSync(join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  writeFileSync(join(dir, 'secret.txt'), 'outside the build');
  const app = await appFor(root);

  const index = await app.inject({ url: '/' });
  assert.equal(index.statusCode, 200);
  assert.match(index.headers['content-type'] as string, /text\/html/);
  assert.match(index.body, /<title>console<\/title>/);
  assert.match(index.headers['content-security-policy'] as string, /script-src 'self'/);
  assert.equal(index.headers['cache-control'], 'no-cache');

  const deep = await app.inject({ url: '/computers/t1.abc?tab=events' });
  assert.equal(deep.statusCode, 200);
  assert.match(deep.body, /<title>console<\/title>/);

  const asset = await app.inject({ url: '/assets/index-abc.js' });
  assert.equal(asset.statusCode, 200);
  assert.equal(asset.body, 'console.log(1)');
  assert.match(asset.headers['cache-control'] as string, /immutable/);

  assert.equal((await app.inject({ url: '/assets/missing.js' })).statusCode, 404);
  const api404 = await app.inject({ url: '/api/v1/nothing-here' });
  assert.equal(api404.statusCode, 404);
  assert.equal(api404.json().code, 'API_ROUTE_NOT_FOUND');
  assert.deepEqual((await app.inject({ url: '/api/v1/things' })).json(), { things: [] });

  for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt']) {
    const r = await app.inject({ url });
    assert.doesNotMatch(r.body, /outside the build/, url);
  }
  assert.ok((await app.inject({ url: '/%E0%A4%A' })).statusCode >= 400);

  // The console route is not part of the API description.
  const spec = app.swagger() as { paths: Record<string, unknown> };
  assert.deepEqual(Object.keys(spec.paths), ['/api/v1/things']);
  await app.close();
});

test('without a build, / explains how to make one', async () => {
  const app = await appFor(join(dir, 'not-built'));
  const r = await app.inject({ url: '/' });
  assert.equal(r.statusCode, 503);
  assert.match(r.body, /npm run build -w @palisade\/console/);
  await app.close();
});
