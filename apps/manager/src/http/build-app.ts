import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { DEFAULT_CONSOLE_DIR, serveConsole } from './console-static.ts';
import { deadLetterRoutes } from '../forwarding/dead-letter-routes.ts';
import { installErrorHandler } from './error-handler.ts';
import type { ManagerContext } from './manager-context.ts';
import type { createManagerMetrics } from './manager-metrics.ts';
import { authenticateUser } from './request-auth.ts';
import { agentRoutes } from './routes/agent-routes.ts';
import { apiKeyRoutes } from './routes/api-key-routes.ts';
import { artifactAgentRoutes, artifactRoutes } from './routes/artifact-routes.ts';
import { cloudAccountRoutes } from './routes/cloud-account-routes.ts';
import { computerRoutes } from './routes/computer-routes.ts';
import { deployBundleRoutes, deployScriptRoutes } from './routes/deploy-script-routes.ts';
import { appControlRoutes } from './routes/app-control-routes.ts';
import { eventRoutes } from './routes/event-routes.ts';
import { forwarderRoutes } from './routes/forwarder-routes.ts';
import { playbookRoutes } from './routes/playbook-routes.ts';
import { policyRoutes } from './routes/policy-routes.ts';
import { recommendationRoutes } from './routes/recommendation-routes.ts';
import { sessionLoginRoutes, sessionRoutes } from './routes/session-routes.ts';
import { smartFolderRoutes } from './routes/smart-folder-routes.ts';
import { taskRoutes } from './routes/task-routes.ts';
import { tenantRoutes } from './routes/tenant-routes.ts';
import { tokenRoutes } from './routes/token-routes.ts';
import { userRoutes } from './routes/user-routes.ts';
import { validatorCompiler } from './validator-compiler.ts';

export interface BuildAppOptions {
  /** A pino logger; without one the API logs nothing (tests). */
  loggerInstance?: FastifyBaseLogger;
  https?: { key: string; cert: string } | null;
  version?: string;
  /** The web console's build folder, served at `/`; null serves no console. */
  consoleDir?: string | null;
}

/**
 * The manager's HTTP API as a Fastify instance that is not listening yet, so tests can call it
 * in-process with `app.inject()` and the server can `listen()` it.
 */
export async function buildApp(
  ctx: ManagerContext & { metrics: ReturnType<typeof createManagerMetrics> },
  opts: BuildAppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    ...(opts.loggerInstance ? { loggerInstance: opts.loggerInstance } : { logger: false }),
    bodyLimit: 16 * 1024 * 1024,
    ...(opts.https ? { https: opts.https } : {}),
    ajv: { customOptions: { removeAdditional: false } },
  } as FastifyServerOptions) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler as never);
  installErrorHandler(app);

  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.requestDuration.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unknown', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Palisade manager API', version: opts.version ?? '0.1.0' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'psk_<tenant>.<id>.<secret>' },
          agent: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'Agent <agentId>:<secret>' },
        },
      },
      security: [{ apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs' });

  app.get('/health', { schema: { tags: ['system'], summary: 'Liveness and storage check', security: [] } }, async (_request, reply) => {
    try {
      await ctx.stores.listTenants();
      return { status: 'ok' };
    } catch (err) {
      reply.status(503);
      return { status: 'unavailable', reason: (err as Error).message };
    }
  });
  app.get('/metrics', { schema: { tags: ['system'], summary: 'Prometheus metrics', security: [] } }, async (_request, reply) => {
    reply.header('content-type', ctx.metrics.registry.contentType);
    return ctx.metrics.registry.metrics();
  });

  await app.register(async (agentScope) => agentRoutes(agentScope, ctx));
  await app.register(async (agentScope) => artifactAgentRoutes(agentScope, ctx));
  await app.register(async (publicScope) => deployBundleRoutes(publicScope));
  await app.register(async (loginScope) => sessionLoginRoutes(loginScope, ctx.stores));
  await app.register(async (api) => {
    api.addHook('onRequest', async (request) => {
      request.user = await authenticateUser(request, ctx.stores);
    });
    await tenantRoutes(api, ctx);
    await apiKeyRoutes(api);
    await sessionRoutes(api);
    await userRoutes(api);
    await tokenRoutes(api);
    await policyRoutes(api, ctx);
    await computerRoutes(api, ctx);
    await eventRoutes(api);
    await smartFolderRoutes(api);
    await taskRoutes(api);
    await recommendationRoutes(api, ctx);
    await playbookRoutes(api, ctx.playbooks);
    await cloudAccountRoutes(api, ctx.cloud);
    await forwarderRoutes(api, ctx);
    await deadLetterRoutes(api, ctx);
    await artifactRoutes(api, ctx);
    await deployScriptRoutes(api);
    await appControlRoutes(api, ctx);
  });
  await serveConsole(app, opts.consoleDir === undefined ? DEFAULT_CONSOLE_DIR : opts.consoleDir);
  return app;
}
