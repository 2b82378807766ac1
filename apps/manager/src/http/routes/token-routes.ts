import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ApiError, notFound } from '../api-error.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT } from './common-schemas.ts';

export async function tokenRoutes(app: FastifyInstance): Promise<void> {
  const tags = ['activation-tokens'];

  app.get('/api/v1/activation-tokens', { schema: { tags, summary: 'List activation tokens' } }, async (request) => {
    const user = requireRole(request, 'operator');
    return { tokens: await user.store.tokens.list() };
  });

  app.post(
    '/api/v1/activation-tokens',
    {
      schema: {
        tags,
        summary: 'Create an activation token, scoped to this tenant and optionally a policy and group',
        body: Type.Object(
          {
            description: Type.Optional(Type.String({ maxLength: 500 })),
            policyId: Type.Optional(Type.String()),
            group: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })),
            maxUses: Type.Optional(Type.Integer({ minimum: 1 })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const body = request.body as { description?: string; policyId?: string; group?: string; ttlSeconds?: number; maxUses?: number };
      if (body.policyId && !(await user.store.policies.get(body.policyId))) {
        throw new ApiError(400, 'API_INVALID_REFERENCE', `no policy ${body.policyId}`, '/policyId');
      }
      const { token, value } = await user.store.tokens.create({ ...body, ttlSeconds: body.ttlSeconds ?? 86400 });
      await user.store.audit.record(user.actor, 'activation-token.create', `activation-token:${token.id}`, {
        policyId: token.policyId,
        group: token.group,
      });
      reply.status(201);
      return { ...token, token: value };
    },
  );

  app.delete(
    '/api/v1/activation-tokens/:id',
    { schema: { tags, summary: 'Revoke an activation token', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.tokens.get(id))) throw notFound('activation token');
      await user.store.tokens.revoke(id);
      await user.store.audit.record(user.actor, 'activation-token.revoke', `activation-token:${id}`);
      return (await user.store.tokens.get(id))!;
    },
  );
}
