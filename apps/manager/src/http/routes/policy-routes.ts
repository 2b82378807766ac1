import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { computeEffectiveConfig, configHash } from '../../config/effective-config.ts';
import { type PolicySettings, PolicySettingsSchema } from '../../config/policy-settings-schema.ts';
import { notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { deleteRoute } from './delete-route.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export async function policyRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const tags = ['policies'];
  // Any change to a policy can change every chain below it: clear the tenant's cached chains.
  app.addHook('onResponse', async (request) => {
    if (request.method !== 'GET' && request.user && request.routeOptions.url?.startsWith('/api/v1/policies'))
      ctx.policyCache.invalidateTenant(request.user.tenantId);
  });

  app.get('/api/v1/policies', { schema: { tags, summary: 'List policies (a tree through parentId)' } }, async (request) => {
    const user = requireRole(request, 'auditor');
    return { policies: await user.store.policies.list() };
  });

  app.get('/api/v1/policies/:id', { schema: { tags, summary: 'Get a policy', params: IdParams } }, async (request) => {
    const user = requireRole(request, 'auditor');
    const p = await user.store.policies.get((request.params as IdParamsT).id);
    if (!p) throw notFound('policy');
    return p;
  });

  app.get(
    '/api/v1/policies/:id/effective',
    { schema: { tags, summary: 'The configuration a computer on this policy gets', params: IdParams } },
    async (request) => {
      const user = requireRole(request, 'auditor');
      const { id } = request.params as IdParamsT;
      if (!(await user.store.policies.get(id))) throw notFound('policy');
      const chain = await user.store.policies.chain(id);
      const config = computeEffectiveConfig(chain.map((p) => p.settings));
      return { hash: configHash(config), config, chain: chain.map((p) => ({ id: p.id, name: p.name })) };
    },
  );

  app.post(
    '/api/v1/policies',
    {
      schema: {
        tags,
        summary: 'Create a policy; a child inherits every setting of its parent',
        body: Type.Object(
          {
            name: Name,
            parentId: Type.Optional(Nullable(Type.String())),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            settings: Type.Optional(PolicySettingsSchema),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request, reply) => {
      const user = requireRole(request, 'operator');
      const policy = await user.store.policies.create(
        request.body as { name: string; parentId?: string | null; settings?: PolicySettings },
      );
      await user.store.audit.record(user.actor, 'policy.create', `policy:${policy.id}`, { name: policy.name });
      reply.status(201);
      return policy;
    },
  );

  app.patch(
    '/api/v1/policies/:id',
    {
      schema: {
        tags,
        summary: 'Change a policy; `settings` replaces the policy own overrides (leave a key out to inherit it)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Name),
            parentId: Type.Optional(Nullable(Type.String())),
            description: Type.Optional(Type.String({ maxLength: 2000 })),
            settings: Type.Optional(PolicySettingsSchema),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (request) => {
      const user = requireRole(request, 'operator');
      const { id } = request.params as IdParamsT;
      const before = await user.store.policies.get(id);
      if (!before) throw notFound('policy');
      const body = request.body as { name?: string; parentId?: string | null; description?: string; settings?: PolicySettings };
      const after = await user.store.policies.update(id, body);
      await user.store.audit.record(user.actor, 'policy.update', `policy:${id}`, {
        before: before.settings,
        after: after.settings,
        changed: Object.keys(body),
      });
      return after;
    },
  );

  deleteRoute(app, {
    url: '/api/v1/policies/:id',
    tags: tags,
    summary: 'Delete a policy that nothing uses',
    kind: 'policy',
    remove: (store, id) => store.policies.delete(id),
  });
}
