import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ROLES } from '../../store/api-key-repository.ts';
import { notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

export async function apiKeyRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['api-keys'];

  app.get('/api/v1/api-keys', { schema: { tags, summary: "List the tenant's API keys (never their secrets)" } }, async (request) => {
    const user = requireRole(request, 'admin');
    return { apiKeys: await user.store.apiKeys.list() };
  });

  app.post(
    '/api/v1/api-keys',
    {
      schema: {
        tags,
        summary: 'Create an API key; its value is returned once and stored hashed',
        body: Type.Object({ name: Name, role: Type.Enum(ROLES) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'admin');
      const { name, role } = request.body as { name: string; role: (typeof ROLES)[number] };
      const { key, secret } = await user.store.apiKeys.create(name, role);
      await user.store.audit.record(user.actor, 'api-key.create', `api-key:${key.id}`, { name, role });
      reply.status(201);
      return { ...key, secret };
    },
  );

  app.delete('/api/v1/api-keys/:id', { schema: { tags, summary: 'Revoke an API key', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'admin');
    const { id } = request.params as IdParamsT;
    if (!(await user.store.apiKeys.get(id))) throw notFound('API key');
    await user.store.apiKeys.revoke(id);
    await user.store.audit.record(user.actor, 'api-key.revoke', `api-key:${id}`);
    return (await user.store.apiKeys.get(id))!;
  });
}
