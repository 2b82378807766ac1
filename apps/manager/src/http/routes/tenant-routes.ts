import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ROLES } from '../../store/api-key-repository.ts';
import { PRIMARY_TENANT } from '../../store/store-provider.ts';
import { ensureTenantDefaults } from '../../services/tenant-defaults.ts';
import { forbidden, notFound } from '../api-error.ts';
import type { ManagerContext } from '../manager-context.ts';
import { requireRole } from '../request-auth.ts';
import { IdParams, type IdParamsT, Name } from './common-schemas.ts';

/** Tenants are managed by the primary tenant's admins only; other tenants cannot see them. */
export async function tenantRoutes(app: FastifyInstance, ctx: ManagerContext): Promise<void> {
  const tags = ['tenants'];
  const requirePrimaryAdmin = (request: Parameters<typeof requireRole>[0]) => {
    const user = requireRole(request, 'admin');
    if (user.tenantId !== PRIMARY_TENANT) throw forbidden('only the primary tenant manages tenants');
    return user;
  };

  app.get('/api/v1/tenants', { schema: { tags, summary: 'List tenants (primary tenant admins)' } }, async (request) => {
    requirePrimaryAdmin(request);
    return { tenants: await ctx.stores.listTenants() };
  });

  app.post(
    '/api/v1/tenants',
    {
      schema: {
        tags,
        summary: 'Create a tenant with its own database',
        body: Type.Object({ id: Type.String({ pattern: '^[a-z][a-z0-9-]{0,30}$' }), name: Name }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const user = requirePrimaryAdmin(request);
      const { id, name } = request.body as { id: string; name: string };
      const tenant = await ctx.stores.createTenant(id, name);
      await ensureTenantDefaults((await ctx.stores.tenant(id))!);
      await user.store.audit.record(user.actor, 'tenant.create', `tenant:${id}`, { name });
      reply.status(201);
      return tenant;
    },
  );

  app.post(
    '/api/v1/tenants/:id/api-keys',
    {
      schema: {
        tags,
        summary: "Create an API key in another tenant (bootstraps a tenant's first admin)",
        params: IdParams,
        body: Type.Object({ name: Name, role: Type.Enum(ROLES) }, { additionalProperties: false }),
      },
    },
    async (request, reply) => {
      const user = requirePrimaryAdmin(request);
      const { id } = request.params as IdParamsT;
      const store = await ctx.stores.tenant(id);
      if (!store) throw notFound('tenant');
      const { name, role } = request.body as { name: string; role: (typeof ROLES)[number] };
      const { key, secret } = await store.apiKeys.create(name, role);
      await user.store.audit.record(user.actor, 'tenant.api-key.create', `tenant:${id}`, { keyId: key.id, role });
      reply.status(201);
      return { ...key, tenantId: id, secret };
    },
  );
}
