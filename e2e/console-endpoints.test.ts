import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type ApiTransport, ConsoleClient, type PalisadeClient } from '@palisade/api-client';
import { type OpenApiRoutes, openApiRoutes } from '../apps/manager/src/testing/openapi-routes.ts';

/**
 * Acceptance 2 of issue 13: no console page calls an endpoint that the OpenAPI document does not
 * describe. The console reaches the manager only through PalisadeClient, so: (1) the console's
 * sources call no fetch and no raw `request`, only client methods; (2) every client method,
 * called for real against a recording transport, produces a method + path that the OpenAPI
 * document of a real in-process manager lists.
 */
const repoRoot = new URL('..', import.meta.url).pathname;
const consoleSrc = join(repoRoot, 'apps/console/src');
let routes: OpenApiRoutes;

before(async () => {
  routes = await openApiRoutes();
});
after(async () => {
  await routes?.close();
});

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sourceFiles(p) : /\.(ts|tsx)$/.test(n) && !n.endsWith('.d.ts') ? [p] : [];
  });
}

/** Every `<method>: (…) => this.request(…)` field of the client, by name. */
function clientMethods(client: PalisadeClient): string[] {
  // `transport` is the client's own plumbing, not an API call.
  return Object.keys(client).filter((k) => k !== 'transport' && typeof (client as unknown as Record<string, unknown>)[k] === 'function');
}

/** Calls every client method with placeholder arguments and records the requests it makes. */
async function recordedEndpoints(): Promise<Map<string, { method: string; path: string }>> {
  let last: { method: string; path: string } | undefined;
  const transport: ApiTransport = async (req) => {
    last = { method: req.method, path: new URL(req.url).pathname };
    return { status: 200, body: '{}' };
  };
  const client = new ConsoleClient({ url: 'http://manager.invalid', apiKey: 'psk_x.y.z', transport });
  const out = new Map<string, { method: string; path: string }>();
  for (const name of clientMethods(client)) {
    last = undefined;
    const fn = (client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name]!;
    // Path parameters are strings, bodies and queries objects: 'PARAM' marks where ids go.
    const args = Array.from({ length: Math.max(fn.length, 1) }, (_, i) => (i === 0 && fn.length >= 1 ? 'PARAM' : {}));
    try {
      await fn(...args);
    } catch {
      // A method whose first argument is a body gets 'PARAM' and may still record its request.
      await fn({}, {}).catch(() => {});
    }
    assert.ok(last, `client method ${name} made no request`);
    out.set(name, last);
  }
  return out;
}

const documented = (method: string, path: string) => routes.documented(method, path);

test('the console talks to the manager only through PalisadeClient methods', () => {
  const files = sourceFiles(consoleSrc);
  assert.ok(files.length > 10, 'console sources found');
  // The console's client: PalisadeClient plus sessions, users and the event summary.
  const client = new ConsoleClient({ url: 'http://x.invalid', apiKey: 'k' });
  const methods = new Set(clientMethods(client));
  const used = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const rel = f.slice(repoRoot.length);
    assert.doesNotMatch(text, /\bfetch\s*\(|XMLHttpRequest|new WebSocket|EventSource\(/, `${rel} must not reach the network itself`);
    assert.doesNotMatch(text, /\.request\s*[<(]/, `${rel} must use typed client methods, not request()`);
    assert.doesNotMatch(text, /https?:\/\/(?!www\.w3\.org)/, `${rel} must not name an external address (no CDN)`);
    for (const m of text.matchAll(/\b(?:api|client)\.([a-zA-Z]+)\s*\(/g)) used.add(m[1]!);
  }
  const unknown = [...used].filter((m) => !methods.has(m));
  assert.deepEqual(unknown, [], 'the console calls only methods the client has');
  assert.ok(used.size >= 20, `the console uses most of the client (${used.size} methods)`);
});

test('every endpoint the API client (and so the console) calls is in the OpenAPI document', async () => {
  const endpoints = await recordedEndpoints();
  assert.ok(endpoints.size >= 30, `recorded ${endpoints.size} client methods`);
  const missing = [...endpoints].filter(([, e]) => !documented(e.method, e.path)).map(([n, e]) => `${n}: ${e.method} ${e.path}`);
  assert.deepEqual(missing, []);
  // The check itself can fail: a path the manager does not have is reported.
  assert.equal(documented('GET', '/api/v1/no-such-thing'), false);
  assert.equal(documented('DELETE', '/api/v1/events'), false);
});
