import { type TestManager, testManager } from './test-manager.ts';
import { type TestLocation, testLocations } from './test-stores.ts';

export interface OpenApiRoutes {
  /** Whether the manager's OpenAPI document lists `method` on a route matching `path` (`{id}` matches one segment). */
  documented(method: string, path: string): boolean;
  close(): Promise<void>;
}

/**
 * The routes of a real in-process manager's OpenAPI document (`/api/docs/json`), for the tests
 * that check every client method calls a documented endpoint.
 */
export async function openApiRoutes(): Promise<OpenApiRoutes> {
  const loc: TestLocation = testLocations()[0]!();
  let tm: TestManager | undefined;
  const close = async () => {
    await tm?.close();
    await loc.cleanup();
  };
  try {
    tm = await testManager(loc);
    const res = await tm.call('GET', '/api/docs/json', { key: null });
    if (res.status !== 200) throw new Error(`GET /api/docs/json answered ${res.status}`);
    const spec = res.body as { paths: Record<string, Record<string, unknown>> };
    const routes = Object.entries(spec.paths).map(([template, ops]) => ({
      re: new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`),
      methods: new Set(Object.keys(ops)),
    }));
    return {
      documented: (method, path) => routes.some((r) => r.methods.has(method.toLowerCase()) && r.re.test(path)),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
