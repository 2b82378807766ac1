import { existsSync, statSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where `npm run build -w @palisade/console` writes the web console, seen from this file. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../../console/dist', import.meta.url));

// The console loads nothing from elsewhere (no CDN), so the policy can be strict; recharts sets
// inline style attributes, hence 'unsafe-inline' for styles only.
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_CONSOLE = /^\/(?:api|health|metrics)(?:\/|$)/;

/**
 * Serves the web console at `/` with a single-page-app fallback: any GET that is not an API path
 * and not a file of the build gets index.html, so deep links such as /computers/<id> work. API
 * paths keep the API's JSON 404. The file is looked up on every request (not listed at start),
 * so a rebuild is served without restarting the manager. Without a build, `/` says how to make one.
 */
export async function serveConsole(app: FastifyInstance, dir: string | null): Promise<void> {
  if (!dir) return;
  const root = resolve(dir);
  // `serve: false`: only `reply.sendFile`, the routing below decides what is a file.
  await app.register(fastifyStatic, { root, serve: false, cacheControl: false });

  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    let path: string;
    try {
      path = decodeURIComponent(request.url.split('?')[0] ?? '/');
    } catch {
      return reply.callNotFound();
    }
    if (NOT_CONSOLE.test(path)) return reply.callNotFound();
    if (!existsSync(resolve(root, 'index.html'))) {
      reply.status(503).type('text/plain; charset=utf-8');
      return 'The web console is not built. Run `npm run build -w @palisade/console` (npm start does this for you).\n';
    }
    reply.header('content-security-policy', CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    const file = resolve(root, `.${path}`);
    const inside = file.startsWith(root + sep);
    if (inside && path !== '/' && existsSync(file) && statSync(file).isFile()) {
      // Vite puts a content hash into every asset name: they never change, so cache them for good.
      reply.header('cache-control', path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache');
      return reply.sendFile(file.slice(root.length + 1));
    }
    if (path.startsWith('/assets/')) return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
}
